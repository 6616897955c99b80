import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { DbRole } from './auth/db-roles';
import { issueToken, keyedDigest, type Principal, tokenLifetimeS } from './auth/jwt';
import { burnComparison, verifySecret } from './auth/passwords';
import { dbRoleOf } from './auth/policy';
import { config } from './config';
import { callJson, expectSuccess, type OperationResult, type Param, p } from './db/data-api';
import { BankError, ForbiddenError, UnauthenticatedError, ValidationError } from './errors';
import { baseHeaders, type HttpResult, json } from './http';
import { countPinLockout } from './metrics';
import type { BankContext } from './middleware/context';
import { parseAmountMinor } from './money';
import type { accountParams, movementBody } from './schemas';
import type * as z from './zod';

/** The authenticated caller; the stack guarantees it on every non-public route. */
export function principalOf(context: BankContext): Principal {
  const principal = context.bank.principal;
  if (!principal) throw new UnauthenticatedError();
  return principal;
}

/**
 * The request context every SQL operation receives: the session (the token's sid), from which
 * the database derives the acting user and role, and what the gateway saw (request id, source
 * IP, user agent) for the audit event. Never an actor id.
 */
export function requestCtx(context: BankContext): Record<string, string> {
  const { principal, requestId, ip, userAgent } = context.bank;
  return {
    ...(principal ? { sid: principal.sessionId } : {}),
    requestId,
    ip,
    userAgent,
  };
}

/**
 * Runs one SQL operation as the caller's database role: a single Data API call that does the
 * work and writes its audit event. A refusal comes back audited and is thrown as a problem.
 */
export async function runOperation(
  context: BankContext,
  sql: string,
  params: readonly Param[],
  role: DbRole = dbRoleOf[principalOf(context).role],
): Promise<OperationResult> {
  // The function's deadline travels with the statement: one that reaches the database after the
  // function has timed out does not run (see deadlineGuarded).
  const remainingMs =
    typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  const guarded = remainingMs === undefined ? sql : deadlineGuarded(sql);
  const raw = await callJson(role, guarded, [
    p.json('ctx', requestCtx(context)),
    ...(remainingMs === undefined
      ? []
      : [p.text('deadline', new Date(Date.now() + remainingMs).toISOString())]),
    ...params,
  ]);
  if (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { deadlinePassed?: unknown }).deadlinePassed === true
  ) {
    throw new DeadlinePassedError();
  }
  context.bank.auditRecorded = true;
  return expectSuccess(raw);
}

/** The answer of a login and of a refresh: a token of the session `sessionId` for `user`. */
export async function sessionResponse(
  sessionId: string,
  user: { id: string; username: string; role: Principal['role']; createdAt: string },
): Promise<HttpResult> {
  const accessToken = await issueToken({
    userId: user.id,
    username: user.username,
    role: user.role,
    sessionId,
  });
  return json(200, { accessToken, tokenType: 'Bearer', expiresIn: tokenLifetimeS, user });
}

/**
 * Wraps an operation's statement so that it runs only while its function is still alive. The Data
 * API runs a statement it has received even when the function that sent it has timed out, and
 * one delayed on the way (a slow network, a stalled endpoint) could otherwise arrive after the
 * caller was told the request failed and after its retry was answered: a retry refused for want
 * of funds, then the original moving the money anyway, under the same Idempotency-Key. Past the
 * deadline the operation is not evaluated at all (PostgreSQL evaluates a scalar subquery in an
 * untaken CASE branch lazily, i.e. never), and the caller gets a marker instead.
 */
export function deadlineGuarded(sql: string): string {
  return `SELECT coalesce(CASE WHEN clock_timestamp() <= :deadline::timestamptz THEN (${sql}) END, '{"deadlinePassed":true}')`;
}

/** The statement reached the database after the function's deadline and did not run. */
export class DeadlinePassedError extends Error {
  override name = 'DeadlinePassedError';
  constructor() {
    super('the statement reached the database after the function deadline; it did not run');
  }
}

/** 204 No Content. */
export function noContent(): HttpResult {
  return { statusCode: 204, headers: { ...baseHeaders }, body: '' };
}

/** "Not self" (admin on another user only), at the API layer; the database checks it again. */
export function refuseSelf(context: BankContext, userId: string): void {
  if (principalOf(context).userId === userId) throw new ForbiddenError('not on your own user');
}

/**
 * A logged-in user gives their password again (POST /me/password, POST /me/totp/disable): as at
 * login, bank_auth checks the login limits of the session's user and reserves the attempt, and
 * bcrypt runs here; the operation that follows (as bank_auth) records the verdict.
 */
export async function reauthenticate(
  context: BankContext,
  action: 'me.password' | 'me.totp.disable',
  password: string,
): Promise<{ attemptId: string; ok: boolean }> {
  const c = config();
  const begin = (await runOperation(
    context,
    'SELECT bank_reauth_begin(:ctx, :action, :userMax::int, :ipMax::int, :windowS::int)::text',
    [
      p.text('action', action),
      p.int('userMax', c.BANK_LOGIN_USER_FAILURES_MAX),
      p.int('ipMax', c.BANK_LOGIN_IP_FAILURES_MAX),
      p.int('windowS', c.BANK_LOGIN_WINDOW_S),
    ],
    'bank_auth',
  )) as unknown as { attemptId: string; passwordHash: string | null };
  // Call 1 wrote no event (only a refusal does, and that was thrown); the operation writes it.
  context.bank.auditRecorded = false;
  const ok = begin.passwordHash
    ? await verifySecret(password, begin.passwordHash)
    : await burnComparison(password);
  return { attemptId: begin.attemptId, ok };
}

export function respond(result: OperationResult): HttpResult {
  return json(result.status, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});
}

// ---- cursors ---------------------------------------------------------------------------------
// Opaque to clients: base64url of a versioned position. Positions are ever-increasing sequence
// numbers, so pages stay stable while new rows arrive.
export function encodeCursor(position: number | null | undefined): string | null {
  if (position === null || position === undefined) return null;
  return Buffer.from(`v1:${position}`, 'utf8').toString('base64url');
}

/** Positions are PostgreSQL bigint sequence values: nothing above this is a position. */
const cursorPositionMax = 9_223_372_036_854_775_807n;

export function decodeCursor(cursor: string | undefined): bigint | null {
  if (cursor === undefined) return null;
  const match = /^v1:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const position = match?.[1] === undefined ? undefined : BigInt(match[1]);
  if (position === undefined || position > cursorPositionMax)
    throw new ValidationError('the cursor is not valid', [
      { path: 'query.cursor', message: 'is not a cursor from this API' },
    ]);
  return position;
}

export function listResponse(result: OperationResult): HttpResult {
  const body = result.body as { items: unknown[] };
  return json(200, { items: body.items, nextCursor: encodeCursor(result.next) });
}

// ---- money movements -------------------------------------------------------------------------

/** Canonical JSON (sorted keys) so that the same request always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The request an Idempotency-Key is bound to: route and body. A PIN enters only as a keyed
 * digest (see keyedDigest), so the same key with another PIN is another request (422).
 */
export function requestHash(route: string, request: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonical({ route, ...request }))
    .digest('hex');
}

export interface Movement {
  readonly action: 'accounts.deposit' | 'accounts.withdraw' | 'transfers.create';
  readonly pin: string | undefined;
  /** A TOTP code for step-up; judged by the database (a customer's large movement needs one). */
  readonly otp: string | undefined;
  /** Hashed for Idempotency-Key binding (the PIN is added as a keyed digest). */
  readonly request: Record<string, unknown>;
  readonly sql: string;
  readonly params: (
    pin: string | null,
    otp: string | null,
    idemKey: string | null,
    idemHash: string | null,
  ) => Param[];
}

/**
 * A money movement: ONE Data API call for every role. A customer's PIN goes to the database,
 * which compares it (pgcrypto) inside the movement's own transaction under the account's row
 * lock and counts a wrong one; no verdict is ever reached here. Tellers and admins send no PIN.
 */
export async function moveMoney(context: BankContext, movement: Movement): Promise<HttpResult> {
  const principal = principalOf(context);
  const idemKey = context.bank.idempotencyKey ?? null;
  const idemHash = idemKey
    ? requestHash(movement.action, {
        ...movement.request,
        pin: movement.pin === undefined ? undefined : await keyedDigest(movement.pin),
      })
    : null;
  let pin: string | null = null;
  if (principal.role === 'customer') {
    if (movement.pin === undefined) {
      throw new ValidationError('a customer must give the account PIN', [
        { path: 'body.pin', message: 'is required' },
      ]);
    }
    pin = movement.pin;
  }
  try {
    return respond(
      await runOperation(
        context,
        movement.sql,
        movement.params(pin, movement.otp ?? null, idemKey, idemHash),
      ),
    );
  } catch (error) {
    // The wrong PIN that used up the last attempt: the database has just locked the account.
    if (error instanceof BankError && error.code === 'INVALID_PIN' && error.extra.attemptsRemaining === 0)
      countPinLockout();
    throw error;
  }
}

/**
 * The core of POST /accounts/{accountNo}/deposit and /withdraw: the same movement, opposite
 * direction. Customers give the account PIN.
 */
export function accountMovementCore(kind: 'DEPOSIT' | 'WITHDRAWAL') {
  const action = kind === 'DEPOSIT' ? 'accounts.deposit' : 'accounts.withdraw';
  return async (_event: APIGatewayProxyEventV2, context: BankContext): Promise<HttpResult> => {
    const { accountNo } = context.bank.input.params as z.output<typeof accountParams>;
    const body = context.bank.input.body as z.output<typeof movementBody>;
    const amountMinor = parseAmountMinor(body.amount);
    return moveMoney(context, {
      action,
      pin: body.pin,
      otp: body.otp,
      // The code is not part of the request an Idempotency-Key binds: a retry with a fresh code
      // (or none) replays the accepted movement.
      request: { accountNo, amount: body.amount, memo: body.memo },
      sql: 'SELECT bank_move(:ctx, :kind, :accountNo, :amount::bigint, :memo, :pin, :otp, :idemKey, :idemHash)::text',
      params: (pin, otp, idemKey, idemHash) => [
        p.text('kind', kind),
        p.text('accountNo', accountNo),
        p.bigint('amount', amountMinor),
        p.text('memo', body.memo),
        p.text('pin', pin),
        p.text('otp', otp),
        p.text('idemKey', idemKey),
        p.text('idemHash', idemHash),
      ],
    });
  };
}
