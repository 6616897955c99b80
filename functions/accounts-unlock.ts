import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';
import type { accountParams } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /accounts/{accountNo}/unlock: lifts a lock and resets the PIN attempt count. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { accountNo } = context.bank.input.params as z.output<typeof accountParams>;
  return respond(
    await runOperation(context, 'SELECT bank_account_unlock(:ctx, :accountNo)::text', [
      p.text('accountNo', accountNo),
    ]),
  );
};

export const handler = middy(core).use(bankStack('accounts.unlock'));
