import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { hashSecret } from '../shared/auth/passwords';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { noContent, reauthenticate, runOperation } from '../shared/operations';
import type { mePasswordBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/**
 * POST /me/password: the current password (compared here with the hash only bank_auth reads; a
 * wrong one is 401 and counts toward the login limits), a step-up code (judged by the database),
 * then the new hash; every other session of the user ends.
 */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const body = context.bank.input.body as z.output<typeof mePasswordBody>;
  const { attemptId, ok } = await reauthenticate(context, 'me.password', body.currentPassword);
  await runOperation(
    context,
    'SELECT bank_password_change(:ctx, :attemptId, :ok, :hash, :otp)::text',
    [
      p.uuid('attemptId', attemptId),
      p.bool('ok', ok),
      p.text('hash', ok ? await hashSecret(body.newPassword) : null),
      p.text('otp', body.otp),
    ],
    'bank_auth',
  );
  return noContent();
};

export const handler = middy(core).use(bankStack('me.password'));
