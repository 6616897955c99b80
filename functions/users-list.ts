import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { decodeCursor, listResponse, runOperation } from '../shared/operations';
import type { listQuery } from '../shared/schemas';
import type * as z from '../shared/zod';

/** GET /users (admin): every user, newest first. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const query = context.bank.input.query as z.output<typeof listQuery>;
  return listResponse(
    await runOperation(context, 'SELECT bank_users_list(:ctx, :limit::int, :before::bigint)::text', [
      p.int('limit', query.limit ?? 20),
      p.bigint('before', decodeCursor(query.cursor)),
    ]),
  );
};

export const handler = middy(core).use(bankStack('users.list'));
