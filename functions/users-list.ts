import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { grantFor } from '../shared/auth/policy';
import { p } from '../shared/db/data-api';
import { ForbiddenError } from '../shared/errors';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { decodeCursor, listResponse, principalOf, runOperation } from '../shared/operations';
import type { usersListQuery } from '../shared/schemas';
import type * as z from '../shared/zod';

/** GET /users (teller: customers only; admin: everyone), newest first, by username prefix and role. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const query = context.bank.input.query as z.output<typeof usersListQuery>;
  // A teller's reach is customers only (the database refuses it again, and filters to customers).
  if (
    grantFor('users.list', principalOf(context).role) === 'customersOnly' &&
    (query.role ?? 'customer') !== 'customer'
  ) {
    throw new ForbiddenError('a teller lists customers only');
  }
  return listResponse(
    await runOperation(
      context,
      'SELECT bank_users_list(:ctx, :query, :role, :limit::int, :before::bigint)::text',
      [
        p.text('query', query.query),
        p.text('role', query.role),
        p.int('limit', query.limit ?? 20),
        p.bigint('before', decodeCursor(query.cursor)),
      ],
    ),
  );
};

export const handler = middy(core).use(bankStack('users.list'));
