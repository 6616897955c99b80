// zod/mini through ./zod, which says why. The namespace import lets esbuild drop what is unused.
import type { RouteName } from '../functions/routes';
import { isValidAccountNo } from './account-no';
import type { ErrorCode } from './errors';
import { AmountError, amountPattern, parseAmountMinor } from './money';
import * as z from './zod';

/**
 * The edge: every body, path and query is checked here before any handler runs. Types flow from
 * these schemas into handlers and into the OpenAPI document (shared/openapi.ts).
 */

// Printable: no control, format, surrogate, private-use or unassigned code points.
const printable = (max: number) =>
  z
    .string()
    .check(z.regex(new RegExp(`^[^\\p{C}]{1,${max}}$`, 'u'), `must be 1..${max} printable characters`));

export const usernameSchema = z
  .string()
  .check(z.regex(/^[a-z0-9._-]{3,32}$/, 'must be 3..32 characters of a-z 0-9 . _ -'))
  .register(z.globalRegistry, { example: 'alice' });

export const passwordSchema = z
  .string()
  .check(
    z.minLength(10, 'must be at least 10 characters'),
    z.maxLength(128, 'must be at most 128 characters'),
  );

function isWeakPin(pin: string): boolean {
  const digits = [...pin].map((d) => d.charCodeAt(0) - 48);
  const steps = digits.slice(1).map((d, i) => d - (digits[i] ?? 0));
  return steps.every((s) => s === 0) || steps.every((s) => s === 1) || steps.every((s) => s === -1);
}

export const pinSchema = z
  .string()
  .check(
    z.regex(/^[0-9]{4,6}$/, 'must be 4..6 digits'),
    z.refine((pin) => !isWeakPin(pin), 'must not be all the same digit or a straight sequence'),
  )
  .register(z.globalRegistry, { example: '4826' });

export const roleSchema = z.enum(['customer', 'teller', 'admin']);

export const amountSchema = z
  .string()
  .check(
    z.regex(amountPattern, 'must be a decimal string with at most 2 fraction digits, like "12.50"'),
    z.superRefine((text, ctx) => {
      try {
        parseAmountMinor(text);
      } catch (error) {
        if (error instanceof AmountError) ctx.addIssue({ code: 'custom', message: error.message });
        else throw error;
      }
    }),
  )
  .register(z.globalRegistry, { example: '125.50', description: 'Decimal string, > 0 and <= 1000000000.00' });

export const accountNoSchema = z
  .string()
  .check(z.regex(/^[0-9]{12}$/, 'must be 12 digits'), z.refine(isValidAccountNo, 'has a wrong check digit'))
  .register(z.globalRegistry, { example: '400000000002' });

export const nameSchema = printable(80);
export const memoSchema = printable(80);
export const reasonSchema = printable(200);
export const idempotencyKeySchema = z
  .string()
  .check(z.regex(/^[\x20-\x7e]{1,100}$/, 'must be 1..100 printable ASCII characters'));

const limitSchema = z.optional(
  z.pipe(
    z.pipe(
      z.string().check(z.regex(/^[0-9]{1,3}$/, 'must be an integer 1..100')),
      z.transform((text: string) => Number(text)),
    ),
    z.number().check(z.int(), z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100')),
  ),
);
const cursorSchema = z.optional(
  z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a cursor from this API')),
);

/** A TOTP code (RFC 6238: 6 digits). */
export const otpSchema = z
  .string()
  .check(z.regex(/^[0-9]{6}$/, 'must be 6 digits'))
  .register(z.globalRegistry, { example: '492039' });
/** An ISO 8601 instant with a zone (Z or an offset), for ?from= and ?to=. */
const instantSchema = z.optional(
  z.iso.datetime({ offset: true }).register(z.globalRegistry, { example: '2026-11-23T00:00:00Z' }),
);

// ---- bodies ----------------------------------------------------------------------------------
export const loginBody = z.strictObject({
  username: z.string().check(z.maxLength(64)),
  password: z.string().check(z.maxLength(256)),
  otp: z.optional(otpSchema),
});
export const createUserBody = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: roleSchema,
  otp: z.optional(otpSchema),
});
export const mePasswordBody = z.strictObject({
  currentPassword: z.string().check(z.maxLength(256)),
  newPassword: passwordSchema,
  otp: z.optional(otpSchema),
});
export const userPasswordBody = z.strictObject({ newPassword: passwordSchema });
export const pinChangeBody = z.strictObject({
  // The current PIN is only compared, so any 4..6 digits (an old weak PIN included) may be given.
  currentPin: z.optional(z.string().check(z.regex(/^[0-9]{4,6}$/, 'must be 4..6 digits'))),
  newPin: pinSchema,
  otp: z.optional(otpSchema),
});
export const totpConfirmBody = z.strictObject({ otp: otpSchema });
export const totpDisableBody = z.strictObject({
  otp: otpSchema,
  password: z.string().check(z.maxLength(256)),
});
export const createAccountBody = z.strictObject({ ownerId: z.uuid(), name: nameSchema, pin: pinSchema });
export const movementBody = z.strictObject({
  amount: amountSchema,
  pin: z.optional(pinSchema),
  memo: z.optional(memoSchema),
  otp: z.optional(otpSchema),
});
export const transferBody = z
  .strictObject({
    fromAccountNo: accountNoSchema,
    // Its own example, so that no example in the reference names one account on both sides.
    toAccountNo: accountNoSchema.clone().register(z.globalRegistry, { example: '400000000010' }),
    amount: amountSchema,
    pin: z.optional(pinSchema),
    memo: z.optional(memoSchema),
    otp: z.optional(otpSchema),
  })
  .check(
    z.refine((b) => b.fromAccountNo !== b.toAccountNo, {
      message: 'must differ from fromAccountNo',
      path: ['toAccountNo'],
    }),
  );
export const lockBody = z.strictObject({ reason: reasonSchema });
export const rejectBody = z.strictObject({ reason: reasonSchema });
export const emptyBody = z.strictObject({});

// ---- path and query --------------------------------------------------------------------------
export const accountParams = z.strictObject({ accountNo: accountNoSchema });
export const userParams = z.strictObject({ userId: z.uuid() });
export const transferParams = z.strictObject({ transferId: z.uuid() });
export const listQuery = z.strictObject({ limit: limitSchema, cursor: cursorSchema });
export const usersListQuery = z.strictObject({
  limit: limitSchema,
  cursor: cursorSchema,
  query: z.optional(
    z.string().check(z.regex(/^[a-z0-9._-]{1,32}$/, 'must be 1..32 characters of a-z 0-9 . _ -')),
  ),
  role: z.optional(roleSchema),
});
export const historyQuery = z.strictObject({
  limit: limitSchema,
  cursor: cursorSchema,
  from: instantSchema,
  to: instantSchema,
});
export const approvalParams = z.strictObject({ approvalId: z.uuid() });
export const approvalStatusSchema = z.enum(['pending', 'approved', 'rejected', 'expired']);
export const approvalsListQuery = z.strictObject({
  limit: limitSchema,
  cursor: cursorSchema,
  status: z.optional(approvalStatusSchema),
});
export const accountsListQuery = z.strictObject({
  limit: limitSchema,
  cursor: cursorSchema,
  ownerId: z.optional(z.uuid()),
});
export const auditQuery = z.strictObject({
  limit: limitSchema,
  cursor: cursorSchema,
  actor: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  action: z.optional(z.string().check(z.regex(/^[a-zA-Z.]{1,40}$/))),
  outcome: z.optional(z.enum(['success', 'denied', 'failed'])),
  accountNo: z.optional(accountNoSchema),
  from: instantSchema,
  to: instantSchema,
});

// ---- responses -------------------------------------------------------------------------------
const money = z
  .string()
  .check(z.regex(/^[0-9]+\.[0-9]{2}$/))
  .register(z.globalRegistry, { example: '1250.00' });
const timestamp = z.iso.datetime().register(z.globalRegistry, { example: '2026-11-23T10:15:30.000Z' });

export const userShape = z
  .object({
    id: z.uuid(),
    username: z.string(),
    role: roleSchema,
    createdAt: timestamp,
    disabled: z.boolean(),
    totpEnabled: z.boolean(),
  })
  .register(z.globalRegistry, { id: 'User' });
export const accountShape = z
  .object({
    accountNo: z.string(),
    name: z.string(),
    ownerId: z.uuid(),
    balance: money,
    isLocked: z.boolean(),
    createdAt: timestamp,
  })
  .register(z.globalRegistry, { id: 'Account' });
export const movementShape = z
  .object({
    entryId: z.uuid(),
    accountNo: z.string(),
    type: z.enum(['DEPOSIT', 'WITHDRAWAL']),
    amount: money,
    balanceAfter: money,
    createdAt: timestamp,
  })
  .register(z.globalRegistry, { id: 'Movement' });
export const transferShape = z
  .object({
    transferId: z.uuid(),
    fromAccountNo: z.string(),
    toAccountNo: z.string(),
    amount: money,
    fromBalanceAfter: money,
    createdAt: timestamp,
  })
  .register(z.globalRegistry, { id: 'Transfer' });
/**
 * GET /transfers/{transferId}: a transfer as its reader may see it. The payer's balance after it
 * is the payer's business: a customer who owns only the receiving account (the payee) gets null.
 * POST /transfers answers the payer, so it always carries the figure (Transfer).
 */
export const transferViewShape = z
  .extend(transferShape, {
    fromBalanceAfter: z.nullable(money).register(z.globalRegistry, {
      description:
        "The payer's balance after the transfer; null for a customer who does not own the from-account",
    }),
  })
  .register(z.globalRegistry, { id: 'TransferView' });
export const entryShape = z
  .object({
    entryId: z.uuid(),
    type: z.enum(['DEPOSIT', 'WITHDRAWAL', 'TRANSFER_IN', 'TRANSFER_OUT']),
    amount: money,
    balanceAfter: money,
    counterpartyAccountNo: z.nullable(z.string()),
    memo: z.nullable(z.string()),
    transferId: z.nullable(z.uuid()),
    createdAt: timestamp,
  })
  .register(z.globalRegistry, { id: 'Entry' });
export const auditEventShape = z
  .object({
    id: z.uuid(),
    actor: z.string(),
    action: z.string(),
    outcome: z.enum(['success', 'denied', 'failed']),
    details: z.record(z.string(), z.unknown()),
    ip: z.nullable(z.string()),
    userAgent: z.nullable(z.string()),
    requestId: z.nullable(z.string()),
    createdAt: timestamp,
  })
  .register(z.globalRegistry, { id: 'AuditEvent' });
export const approvalShape = z
  .object({
    approvalId: z.uuid(),
    action: z.enum(['accounts.deposit', 'accounts.withdraw', 'transfers.create']),
    /** The maker's request as the API took it (accountNo or fromAccountNo/toAccountNo, amount, memo). */
    request: z.record(z.string(), z.unknown()),
    status: approvalStatusSchema,
    makerId: z.uuid(),
    checkerId: z.nullable(z.uuid()),
    reason: z.nullable(z.string()),
    /** Once approved: the movement or transfer it made. */
    result: z.nullable(z.union([movementShape, transferShape])),
    createdAt: timestamp,
    decidedAt: z.nullable(timestamp),
  })
  .register(z.globalRegistry, { id: 'Approval' });
export const loginResponse = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().check(z.int()),
    user: userShape,
  })
  .register(z.globalRegistry, { id: 'LoginResponse' });
export const totpEnrolResponse = z
  .object({ secret: z.string(), otpauthUri: z.string() })
  .register(z.globalRegistry, { id: 'TotpEnrolment' });
/** 200 while the database answers (503 `{status:"unavailable", database:"down"}` when not). */
export const healthResponse = z.object({
  status: z.literal('ok'),
  database: z.enum(['up', 'not checked']),
});
export const problemShape = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().check(z.int()),
    detail: z.string(),
    code: z.string(),
    requestId: z.string(),
    errors: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
    attemptsRemaining: z.optional(z.number().check(z.int())),
    retryAfter: z.optional(z.number().check(z.int())),
    enrolmentRequired: z.optional(z.boolean()),
    /** LIMIT_EXCEEDED: the daily debit limit and what is left of it today. */
    limit: z.optional(money),
    remaining: z.optional(money),
  })
  .register(z.globalRegistry, { id: 'Problem' });

const listOf = <T extends z.ZodMiniType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.nullable(z.string()) });

// ---- per-route specification -----------------------------------------------------------------
export interface RouteSpec {
  readonly summary: string;
  readonly body?: z.ZodMiniType;
  readonly params?: z.ZodMiniType;
  readonly query?: z.ZodMiniType;
  /** The success body; absent for 204 No Content. */
  readonly response?: z.ZodMiniType;
  readonly successStatus: number;
  /** Money-moving POSTs honour Idempotency-Key. */
  readonly idempotent?: boolean;
  /** Error codes this route answers beyond those of every route (see shared/errors.ts). */
  readonly errors?: readonly ErrorCode[];
  /** A teller's large movement answers 202 `approval` instead (maker-checker). */
  readonly pendingApproval?: boolean;
}

const movementErrors = [
  'INVALID_PIN',
  'NOT_FOUND',
  'INSUFFICIENT_FUNDS',
  'IDEMPOTENCY_KEY_REUSED',
  'LIMIT_EXCEEDED',
  'ACCOUNT_LOCKED',
  'STEP_UP_REQUIRED',
  'INVALID_OTP',
  'RATE_LIMITED',
] as const satisfies readonly ErrorCode[];
/** Approving or rejecting: the maker (403), gone (404), decided or expired (409). */
const decisionErrors = ['FORBIDDEN', 'NOT_FOUND', 'CONFLICT'] as const satisfies readonly ErrorCode[];

export const routeSpecs = {
  health: { summary: 'Liveness', response: healthResponse, successStatus: 200 },
  openapi: {
    summary: 'This OpenAPI document',
    response: z.record(z.string(), z.unknown()),
    successStatus: 200,
  },
  'auth.login': {
    summary: 'Log in; returns a 15-minute bearer token',
    body: loginBody,
    response: loginResponse,
    successStatus: 200,
    errors: ['UNAUTHENTICATED', 'OTP_REQUIRED', 'RATE_LIMITED'],
  },
  'auth.logout': {
    summary: 'End this session: every token of it is refused from now on',
    body: emptyBody,
    successStatus: 204,
  },
  'auth.refresh': {
    summary: 'A new 15-minute token of the same session (refused once the session has ended)',
    body: emptyBody,
    response: loginResponse,
    successStatus: 200,
  },
  'me.get': { summary: 'The calling user', response: userShape, successStatus: 200 },
  'users.create': {
    summary: 'Create a user (an admin creating a teller or an admin gives a TOTP code)',
    body: createUserBody,
    response: userShape,
    successStatus: 201,
    errors: ['FORBIDDEN', 'CONFLICT', 'STEP_UP_REQUIRED', 'INVALID_OTP', 'RATE_LIMITED'],
  },
  'users.list': {
    summary: 'List users (teller: customers only), optionally by username prefix and role',
    query: usersListQuery,
    response: listOf(userShape),
    successStatus: 200,
  },
  'accounts.create': {
    summary: 'Open an account for a customer',
    body: createAccountBody,
    response: accountShape,
    successStatus: 201,
  },
  'accounts.list': {
    summary: 'List accounts',
    query: accountsListQuery,
    response: listOf(accountShape),
    successStatus: 200,
  },
  'accounts.get': {
    summary: 'One account',
    params: accountParams,
    response: accountShape,
    successStatus: 200,
  },
  'accounts.deposit': {
    summary: 'Deposit into an account',
    params: accountParams,
    body: movementBody,
    response: movementShape,
    successStatus: 200,
    idempotent: true,
    errors: movementErrors,
    pendingApproval: true,
  },
  'accounts.withdraw': {
    summary: 'Withdraw from an account',
    params: accountParams,
    body: movementBody,
    response: movementShape,
    successStatus: 200,
    idempotent: true,
    errors: movementErrors,
    pendingApproval: true,
  },
  'transfers.create': {
    summary: 'Transfer between two accounts',
    body: transferBody,
    response: transferShape,
    successStatus: 201,
    idempotent: true,
    errors: movementErrors,
    pendingApproval: true,
  },
  'accounts.lock': {
    summary: 'Lock an account',
    params: accountParams,
    body: lockBody,
    response: accountShape,
    successStatus: 200,
  },
  'accounts.unlock': {
    summary: 'Unlock an account and reset its PIN attempts',
    params: accountParams,
    body: emptyBody,
    response: accountShape,
    successStatus: 200,
  },
  'accounts.history': {
    summary: 'Ledger entries of an account, newest first',
    params: accountParams,
    query: historyQuery,
    response: listOf(entryShape),
    successStatus: 200,
  },
  'auditLogs.list': {
    summary: 'The audit trail (admin)',
    query: auditQuery,
    response: listOf(auditEventShape),
    successStatus: 200,
  },
  'me.password': {
    summary: 'Change your own password (ends every other session)',
    body: mePasswordBody,
    successStatus: 204,
    errors: ['UNAUTHENTICATED', 'STEP_UP_REQUIRED', 'INVALID_OTP', 'RATE_LIMITED'],
  },
  'users.password': {
    summary: "Set a user's password (teller: customers only); ends every session of that user",
    params: userParams,
    body: userPasswordBody,
    successStatus: 204,
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },
  'users.disable': {
    summary: 'Disable a user (admin, not self): every session ends, login is refused',
    params: userParams,
    body: lockBody,
    response: userShape,
    successStatus: 200,
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },
  'users.enable': {
    summary: 'Enable a disabled user (admin)',
    params: userParams,
    body: emptyBody,
    response: userShape,
    successStatus: 200,
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },
  'accounts.pin': {
    summary:
      "Set an account's PIN (customer: own, with currentPin and a TOTP code); resets the wrong-PIN count",
    params: accountParams,
    body: pinChangeBody,
    successStatus: 204,
    errors: ['INVALID_PIN', 'ACCOUNT_LOCKED', 'NOT_FOUND', 'STEP_UP_REQUIRED', 'INVALID_OTP', 'RATE_LIMITED'],
  },
  'transfers.get': {
    summary:
      "One transfer (customer: when either side is their own; the payer's balance after it only to the payer and staff)",
    params: transferParams,
    response: transferViewShape,
    successStatus: 200,
    errors: ['NOT_FOUND'],
  },
  'me.totp.enrol': {
    summary: 'Start TOTP enrolment: a new secret, pending until confirmed',
    body: emptyBody,
    response: totpEnrolResponse,
    successStatus: 201,
    errors: ['CONFLICT'],
  },
  'me.totp.confirm': {
    summary: 'Confirm TOTP enrolment with a first code',
    body: totpConfirmBody,
    response: userShape,
    successStatus: 200,
    errors: ['CONFLICT', 'INVALID_OTP', 'RATE_LIMITED'],
  },
  'me.totp.disable': {
    summary: 'Remove your authenticator (a code and your password)',
    body: totpDisableBody,
    response: userShape,
    successStatus: 200,
    errors: ['UNAUTHENTICATED', 'STEP_UP_REQUIRED', 'INVALID_OTP', 'RATE_LIMITED'],
  },
  'users.totp.reset': {
    summary: "Remove a user's authenticator (admin, not self); the user enrols again",
    params: userParams,
    body: lockBody,
    response: userShape,
    successStatus: 200,
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },
  'approvals.list': {
    summary: 'Approvals of large teller movements, newest first (teller, admin)',
    query: approvalsListQuery,
    response: listOf(approvalShape),
    successStatus: 200,
  },
  'approvals.approve': {
    summary:
      'Approve and execute a pending movement (a second teller or an admin, never the maker); 409 CONFLICT once decided or expired (24 h)',
    params: approvalParams,
    body: emptyBody,
    response: approvalShape,
    successStatus: 200,
    errors: [...decisionErrors, 'INSUFFICIENT_FUNDS', 'ACCOUNT_LOCKED'],
  },
  'approvals.reject': {
    summary:
      'Reject a pending movement with a reason (a second teller or an admin, never the maker); 409 CONFLICT once decided or expired (24 h)',
    params: approvalParams,
    body: rejectBody,
    response: approvalShape,
    successStatus: 200,
    errors: decisionErrors,
  },
} as const satisfies Record<RouteName, RouteSpec>;

export type RouteSpecs = typeof routeSpecs;
