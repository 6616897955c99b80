import createClient, { type Middleware } from 'openapi-fetch';
import { formatMoney } from '../money';
import type { components, paths } from './schema';

export type User = components['schemas']['User'];
export type Account = components['schemas']['Account'];
export type Movement = components['schemas']['Movement'];
export type Transfer = components['schemas']['Transfer'];
export type Entry = components['schemas']['Entry'];
export type AuditEvent = components['schemas']['AuditEvent'];
export type Problem = components['schemas']['Problem'];
export type Approval = components['schemas']['Approval'];
export type LoginResponse = components['schemas']['LoginResponse'];
export type Role = User['role'];

/**
 * The one API client: same origin, bearer token from memory only (never storage or a cookie).
 * A 401 on any call but the login ends the session (the token expired or was revoked).
 */
let token: string | undefined;
let onUnauthenticated: () => void = () => undefined;

export function setToken(value: string | undefined): void {
  token = value;
}
export function authHeader(): Record<string, string> {
  return token !== undefined ? { authorization: `Bearer ${token}` } : {};
}
export function whenUnauthenticated(callback: () => void): void {
  onUnauthenticated = callback;
}

/**
 * Routes that ask for the password again: their 401 says the password given is wrong, and the
 * session lives on (the form that sent it checks the session with GET /me).
 */
const passwordRechecks = new Set(['/me/password', '/me/totp/disable']);

const auth: Middleware = {
  onRequest({ request }) {
    if (token !== undefined) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    const path = new URL(request.url).pathname;
    if (
      response.status === 401 &&
      token !== undefined &&
      !path.startsWith('/auth/') &&
      !passwordRechecks.has(path)
    )
      onUnauthenticated();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' });
api.use(auth);

/** An application/problem+json answer, with its field errors by field name. */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  readonly status: number;
  readonly code: string;
  readonly problem: Partial<Problem>;
  constructor(status: number, problem: Partial<Problem>) {
    super(problem.detail ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem.code ?? 'UNKNOWN';
    this.problem = problem;
  }

  /** `errors[].path` is `body.amount`, `path.accountNo`, `query.limit`: keyed by the last part. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const error of this.problem.errors ?? []) {
      const field = error.path.split('.').slice(1).join('.') || error.path;
      out[field] ??= `${humanField(field)} ${error.message}`;
    }
    return out;
  }
}

const fieldNames: Readonly<Record<string, string>> = {
  amount: 'The amount',
  pin: 'The PIN',
  memo: 'The memo',
  fromAccountNo: 'The account to pay from',
  toAccountNo: 'The account to pay into',
  accountNo: 'The account number',
  username: 'The username',
  password: 'The password',
  ownerId: 'The owner id',
  name: 'The account name',
  reason: 'The reason',
  role: 'The role',
  otp: 'The one-time code',
  currentPassword: 'The current password',
  newPassword: 'The new password',
  currentPin: 'The current PIN',
  newPin: 'The new PIN',
  userId: 'The user id',
};
function humanField(field: string): string {
  return fieldNames[field] ?? `The field ${field}`;
}

/** What to tell a person, by the problem's code. */
export function humanMessage(error: unknown): string {
  if (!(error instanceof ApiProblem)) {
    return error instanceof Error && error.name === 'TypeError'
      ? 'The bank could not be reached. Check the connection and try again.'
      : 'Something went wrong. Try again.';
  }
  const p = error.problem;
  switch (error.code) {
    case 'VALIDATION_FAILED':
      return 'Some details need attention.';
    case 'UNAUTHENTICATED':
      return 'Wrong username or password.';
    case 'OTP_REQUIRED':
      return 'Enter the one-time code from your authenticator app.';
    case 'INVALID_OTP':
      return 'That one-time code is wrong or was already used.';
    case 'STEP_UP_REQUIRED':
      return p.enrolmentRequired === true
        ? 'This needs a one-time code, and you have no authenticator app enrolled yet. Enrol one in Settings first.'
        : 'This needs a one-time code from your authenticator app.';
    case 'FORBIDDEN':
      return 'Your role may not do this.';
    case 'INVALID_PIN':
      return p.attemptsRemaining !== undefined
        ? `Wrong PIN. ${p.attemptsRemaining} ${p.attemptsRemaining === 1 ? 'attempt' : 'attempts'} left before the account locks.`
        : 'Wrong PIN.';
    case 'NOT_FOUND':
      return 'No such account, or it is not yours.';
    case 'CONFLICT':
      return 'That username is taken.';
    case 'INSUFFICIENT_FUNDS':
      return 'The balance is lower than the amount.';
    case 'LIMIT_EXCEEDED':
      return p.remaining !== undefined
        ? `This is over the daily limit for this account: ${formatMoney(p.remaining)} is left for today.`
        : 'This is over the daily limit for this account.';
    case 'IDEMPOTENCY_KEY_REUSED':
      return 'This form was already sent with other details. Start again.';
    case 'ACCOUNT_LOCKED':
      return 'The account is locked. A teller can unlock it.';
    case 'RATE_LIMITED':
      return p.retryAfter !== undefined
        ? `Too many attempts. Try again in ${Math.ceil(p.retryAfter / 60)} minutes.`
        : 'Too many attempts. Try again later.';
    default:
      return error.status >= 500
        ? 'The bank had a problem. Nothing was changed; try again.'
        : (p.detail ?? 'Refused.');
  }
}

/** openapi-fetch's result → its data, or an ApiProblem. */
export async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (response.ok) return data as T;
  const problem = (typeof error === 'object' && error !== null ? error : {}) as Partial<Problem>;
  throw new ApiProblem(response.status, problem);
}
