import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';
import type { accountParams, lockBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /accounts/{accountNo}/lock: a teller or admin freezes every money operation on it. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { accountNo } = context.bank.input.params as z.output<typeof accountParams>;
  const body = context.bank.input.body as z.output<typeof lockBody>;
  return respond(
    await runOperation(context, 'SELECT bank_account_lock(:ctx, :accountNo, :reason)::text', [
      p.text('accountNo', accountNo),
      p.text('reason', body.reason),
    ]),
  );
};

export const handler = middy(core).use(bankStack('accounts.lock'));
