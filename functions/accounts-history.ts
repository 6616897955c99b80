import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { decodeCursor, listResponse, runOperation } from '../shared/operations';
import type { accountParams, historyQuery } from '../shared/schemas';
import type * as z from '../shared/zod';

/** GET /accounts/{accountNo}/history: ledger entries, newest first. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { accountNo } = context.bank.input.params as z.output<typeof accountParams>;
  const query = context.bank.input.query as z.output<typeof historyQuery>;
  return listResponse(
    await runOperation(
      context,
      'SELECT bank_account_history(:ctx, :accountNo, :from::timestamptz, :to::timestamptz, :limit::int, :before::bigint)::text',
      [
        p.text('accountNo', accountNo),
        p.text('from', query.from),
        p.text('to', query.to),
        p.int('limit', query.limit ?? 20),
        p.bigint('before', decodeCursor(query.cursor)),
      ],
    ),
  );
};

export const handler = middy(core).use(bankStack('accounts.history'));
