import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { DbRole } from './auth/db-roles';
import { keyedDigest, type Principal } from './auth/jwt';
import { verifySecret } from './auth/passwords';
import { dbRoleOf } from './auth/policy';
import { config } from './config';
import { callJson, expectSuccess, type OperationResult, type Param, p } from './db/data-api';
import { BankError, UnauthenticatedError, ValidationError } from './errors';
import { type HttpResult, json } from './http';
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

/** The request context every SQL operation receives (and writes into its audit event). */
export function requestCtx(context: BankContext): Record<string, string> {
  const { principal, requestId, ip, userAgent } = context.bank;
  return {
    ...(principal ? { actorId: principal.userId } : {}),
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
  const raw = await callJson(role, sql, [p.json('ctx', requestCtx(context)), ...params]);
  context.bank.auditRecorded = true;
  return expectSuccess(raw);
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

export function decodeCursor(cursor: string | undefined): bigint | null {
  if (cursor === undefined) return null;
  const match = /^v1:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1])
    throw new ValidationError('the cursor is not valid', [
      { path: 'query.cursor', message: 'is not a cursor from this API' },
    ]);
  return BigInt(match[1]);
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
  /** The account whose PIN a customer must give (the debited one for a transfer). */
  readonly pinAccountNo: string;
  readonly pin: string | undefined;
  /** Hashed for Idempotency-Key binding (the PIN is added as a keyed digest). */
  readonly request: Record<string, unknown>;
  readonly details: Record<string, unknown>;
  readonly sql: string;
  readonly params: (pinVerified: boolean, idemKey: string | null, idemHash: string | null) => Param[];
}

/**
 * A money movement. Tellers and admins: one Data API call. Customers: the PIN attempt is first
 * reserved under the account's row lock (call 1; a replayed Idempotency-Key ends here), then
 * bcrypt runs here, then either the movement (call 2, which resets the counter in the same
 * transaction) or the recorded failure (call 2, which may lock the account).
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
  let pinVerified = false;
  if (principal.role === 'customer') {
    if (movement.pin === undefined) {
      throw new ValidationError('a customer must give the account PIN', [
        { path: 'body.pin', message: 'is required' },
      ]);
    }
    const maxAttempts = config().BANK_MAX_PIN_ATTEMPTS;
    const reservation = await runOperation(
      context,
      'SELECT bank_pin_reserve(:ctx, :action, :accountNo, :maxAttempts::int, :idemKey, :idemHash, :details)::text',
      [
        p.text('action', movement.action),
        p.text('accountNo', movement.pinAccountNo),
        p.int('maxAttempts', maxAttempts),
        p.text('idemKey', idemKey),
        p.text('idemHash', idemHash),
        p.json('details', movement.details),
      ],
    );
    if (reservation.replayed) return respond(reservation);
    const pinHash = (reservation as { pinHash?: unknown }).pinHash;
    if (typeof pinHash !== 'string') throw new Error('PIN reservation returned no hash');
    context.bank.auditRecorded = false;
    if (!(await verifySecret(movement.pin, pinHash))) {
      await runOperation(
        context,
        'SELECT bank_pin_failed(:ctx, :action, :accountNo, :maxAttempts::int, :details)::text',
        [
          p.text('action', movement.action),
          p.text('accountNo', movement.pinAccountNo),
          p.int('maxAttempts', maxAttempts),
          p.json('details', movement.details),
        ],
      ).catch((error: unknown) => {
        // The wrong PIN that used up the last attempt: bank_pin_failed has just locked the account.
        if (error instanceof BankError && error.code === 'INVALID_PIN' && error.extra.attemptsRemaining === 0)
          countPinLockout();
        throw error;
      });
      throw new Error('bank_pin_failed returned success');
    }
    pinVerified = true;
  }
  return respond(await runOperation(context, movement.sql, movement.params(pinVerified, idemKey, idemHash)));
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
      pinAccountNo: accountNo,
      pin: body.pin,
      request: { accountNo, amount: body.amount, memo: body.memo },
      details: { accountNo, amount: body.amount },
      sql: 'SELECT bank_move(:ctx, :kind, :accountNo, :amount::bigint, :memo, :pinVerified, :idemKey, :idemHash)::text',
      params: (pinVerified, idemKey, idemHash) => [
        p.text('kind', kind),
        p.text('accountNo', accountNo),
        p.bigint('amount', amountMinor),
        p.text('memo', body.memo),
        p.bool('pinVerified', pinVerified),
        p.text('idemKey', idemKey),
        p.text('idemHash', idemHash),
      ],
    });
  };
}
