import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { burnComparison, verifySecret } from '../shared/auth/passwords';
import { config } from '../shared/config';
import { p } from '../shared/db/data-api';
import { UnauthenticatedError } from '../shared/errors';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { runOperation, sessionResponse } from '../shared/operations';
import type { loginBody, userShape } from '../shared/schemas';
import type * as z from '../shared/zod';

interface LoginBegin {
  attemptId: string;
  passwordHash: string | null;
}

interface LoginFinish {
  sid: string;
  user: z.output<typeof userShape>;
}

/**
 * POST /auth/login, as bank_auth: the login-only database role, held by this function alone,
 * the only one that can read a password hash. Call 1 checks the rate limits (per username and
 * per source IP as the gateway saw it, in PostgreSQL so they hold across Lambda instances) and
 * reserves the attempt; bcrypt runs here, at equal cost for unknown usernames (in a function it
 * scales out; on the Aurora writer it would be a lever for anyone able to send logins); call 2
 * records the verdict, judges the TOTP code of an enrolled user and, on success, opens the session whose id the token carries (`sid`).
 */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const body = context.bank.input.body as z.output<typeof loginBody>;
  context.bank.claimedActor = body.username;
  const c = config();
  const begin = (await runOperation(
    context,
    'SELECT bank_login_begin(:ctx, :username, :userMax::int, :ipMax::int, :windowS::int)::text',
    [
      p.text('username', body.username),
      p.int('userMax', c.BANK_LOGIN_USER_FAILURES_MAX),
      p.int('ipMax', c.BANK_LOGIN_IP_FAILURES_MAX),
      p.int('windowS', c.BANK_LOGIN_WINDOW_S),
    ],
    'bank_auth',
  )) as unknown as LoginBegin;
  context.bank.auditRecorded = false;
  const ok = begin.passwordHash
    ? await verifySecret(body.password, begin.passwordHash)
    : await burnComparison(body.password);
  const finish = (await runOperation(
    context,
    'SELECT bank_login_finish(:ctx, :attemptId, :success, :otp)::text',
    [p.uuid('attemptId', begin.attemptId), p.bool('success', ok), p.text('otp', body.otp)],
    'bank_auth',
  )) as unknown as LoginFinish;
  if (!ok) throw new UnauthenticatedError('wrong username or password');
  return sessionResponse(finish.sid, finish.user);
};

export const handler = middy(core).use(bankStack('auth.login'));
