import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { hashSecret } from '../shared/auth/passwords';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { noContent, runOperation } from '../shared/operations';
import type { userParams, userPasswordBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/**
 * POST /users/{userId}/password: a teller (customers only) or an admin sets a user's password;
 * every session of that user ends. The database decides the teller's reach from the target row.
 */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { userId } = context.bank.input.params as z.output<typeof userParams>;
  const body = context.bank.input.body as z.output<typeof userPasswordBody>;
  await runOperation(context, 'SELECT bank_user_password_set(:ctx, :userId, :hash)::text', [
    p.uuid('userId', userId),
    p.text('hash', await hashSecret(body.newPassword)),
  ]);
  return noContent();
};

export const handler = middy(core).use(bankStack('users.password'));
