import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { issueToken, tokenLifetimeS } from '../shared/auth/jwt';
import { burnComparison, verifySecret } from '../shared/auth/passwords';
import { config } from '../shared/config';
import { p } from '../shared/db/data-api';
import { UnauthenticatedError } from '../shared/errors';
import { json } from '../shared/http';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { runOperation } from '../shared/operations';
import type { loginBody } from '../shared/schemas';
import type * as z from '../shared/zod';

interface LoginBegin {
  attemptId: string;
  user: { id: string; username: string; role: 'customer' | 'teller' | 'admin'; createdAt: string } | null;
  passwordHash: string | null;
}

/**
 * POST /auth/login. Call 1 checks the rate limits (per username and per source IP, in
 * PostgreSQL so they hold across Lambda instances) and reserves the attempt; bcrypt runs here,
 * at equal cost for unknown usernames; call 2 records the verdict and its audit event.
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
    'bank_customer',
  )) as unknown as LoginBegin;
  context.bank.auditRecorded = false;
  const ok =
    begin.user && begin.passwordHash
      ? await verifySecret(body.password, begin.passwordHash)
      : await burnComparison(body.password);
  await runOperation(
    context,
    'SELECT bank_login_finish(:ctx, :attemptId, :success)::text',
    [p.uuid('attemptId', begin.attemptId), p.bool('success', ok)],
    'bank_customer',
  );
  if (!ok || !begin.user) throw new UnauthenticatedError('wrong username or password');
  const accessToken = await issueToken({
    userId: begin.user.id,
    username: begin.user.username,
    role: begin.user.role,
  });
  return json(200, { accessToken, tokenType: 'Bearer', expiresIn: tokenLifetimeS, user: begin.user });
};

export const handler = middy(core).use(bankStack('auth.login'));
