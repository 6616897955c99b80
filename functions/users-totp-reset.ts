import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { refuseSelf, respond, runOperation } from '../shared/operations';
import type { lockBody, userParams } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /users/{userId}/totp/reset (admin, not self): the user must enrol an authenticator again. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { userId } = context.bank.input.params as z.output<typeof userParams>;
  const body = context.bank.input.body as z.output<typeof lockBody>;
  refuseSelf(context, userId);
  return respond(
    await runOperation(context, 'SELECT bank_totp_reset(:ctx, :userId, :reason)::text', [
      p.uuid('userId', userId),
      p.text('reason', body.reason),
    ]),
  );
};

export const handler = middy(core).use(bankStack('users.totp.reset'));
