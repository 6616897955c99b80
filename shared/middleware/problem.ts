import { BankError, titleOf, ValidationError } from '../errors';
import { baseHeaders, type HttpResult } from '../http';

/** The problem a thrown error becomes. Only BankErrors say anything; the rest are 500s. */
export function toBankError(error: unknown): BankError {
  if (error instanceof BankError) return error;
  // @middy/http-json-body-parser reports both a wrong content type and malformed JSON as 415.
  if (isHttpError(error) && error.statusCode === 415) {
    return /malformed/i.test(error.message)
      ? new ValidationError('the body is not valid JSON')
      : new BankError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  return new BankError(500, 'INTERNAL', 'an unexpected error occurred; nothing was changed');
}

function isHttpError(error: unknown): error is Error & { statusCode: number } {
  return error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number';
}

export function problemResponse(error: BankError, requestId: string): HttpResult {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...baseHeaders };
  const retryAfter = error.extra.retryAfter;
  if (typeof retryAfter === 'number') headers['retry-after'] = String(retryAfter);
  return {
    statusCode: error.status,
    headers,
    body: JSON.stringify({
      type: 'about:blank',
      title: titleOf(error.status),
      status: error.status,
      detail: error.detail,
      code: error.code,
      requestId,
      ...error.extra,
    }),
  };
}
