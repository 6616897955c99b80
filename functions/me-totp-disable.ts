import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { reauthenticate, respond, runOperation } from '../shared/operations';
import type { totpDisableBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/**
 * POST /me/totp/disable: the password (compared here, as at login, with the hash only bank_auth
 * reads; a wrong one counts toward the login limits) and a current code (judged by the database).
 */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const body = context.bank.input.body as z.output<typeof totpDisableBody>;
  const { attemptId, ok } = await reauthenticate(context, 'me.totp.disable', body.password);
  return respond(
    await runOperation(
      context,
      'SELECT bank_totp_disable(:ctx, :attemptId, :ok, :otp)::text',
      [p.uuid('attemptId', attemptId), p.bool('ok', ok), p.text('otp', body.otp)],
      'bank_auth',
    ),
  );
};

export const handler = middy(core).use(bankStack('me.totp.disable'));
