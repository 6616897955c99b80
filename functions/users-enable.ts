import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';
import type { userParams } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /users/{userId}/enable (admin): a disabled user may log in again. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { userId } = context.bank.input.params as z.output<typeof userParams>;
  return respond(
    await runOperation(context, 'SELECT bank_user_enable(:ctx, :userId)::text', [p.uuid('userId', userId)]),
  );
};

export const handler = middy(core).use(bankStack('users.enable'));
