/**
 * Errors that become RFC 9457 problem responses. Only these carry details to the client; any
 * other error is a 500 INTERNAL with nothing but the request id.
 */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export class BankError extends Error {
  override name = 'BankError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** Extra problem members (errors, attemptsRemaining, retryAfter). */
    readonly extra: Readonly<Record<string, unknown>> = {},
    /** True when the database already wrote this request's audit event. */
    readonly audited = false,
  ) {
    super(`${code}: ${detail}`);
  }
}

export class ValidationError extends BankError {
  override name = 'ValidationError';
  constructor(detail: string, errors: readonly FieldError[] = []) {
    super(400, 'VALIDATION_FAILED', detail, { errors });
  }
}
export class UnauthenticatedError extends BankError {
  override name = 'UnauthenticatedError';
  constructor(detail = 'missing, malformed or expired credentials') {
    super(401, 'UNAUTHENTICATED', detail);
  }
}
export class ForbiddenError extends BankError {
  override name = 'ForbiddenError';
  constructor(detail = 'your role may not do this') {
    super(403, 'FORBIDDEN', detail);
  }
}
export class NotFoundError extends BankError {
  override name = 'NotFoundError';
  constructor(detail = 'not found') {
    super(404, 'NOT_FOUND', detail);
  }
}
export class PayloadTooLargeError extends BankError {
  override name = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${limitBytes} bytes`);
  }
}
export class UnsupportedMediaTypeError extends BankError {
  override name = 'UnsupportedMediaTypeError';
  constructor() {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
}

/**
 * Every error code of the contract (API.md) and its status. Every route may answer those of
 * `everyRouteErrors`; a route's spec lists the others it answers (shared/schemas.ts), and the
 * OpenAPI document names them per status.
 */
export const errorCodes = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  OTP_REQUIRED: 401,
  FORBIDDEN: 403,
  INVALID_PIN: 403,
  STEP_UP_REQUIRED: 403,
  INVALID_OTP: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INSUFFICIENT_FUNDS: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  LIMIT_EXCEEDED: 422,
  ACCOUNT_LOCKED: 423,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;
export type ErrorCode = keyof typeof errorCodes;
export const everyRouteErrors: readonly ErrorCode[] = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

/** Audit outcome of a status: refusals of who you are or what you may do are denials. */
export function outcomeOf(status: number): 'success' | 'denied' | 'failed' {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || status === 423 || status === 429) return 'denied';
  return 'failed';
}

const titles: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function titleOf(status: number): string {
  return titles[status] ?? 'Error';
}
