import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteName } from '../../functions/routes';
import type { HttpResult } from '../http';
import { logger } from '../logger';
import type { BankContext } from './context';

/**
 * First in, last out: sets up per-request state, stamps `x-request-id` on every response and
 * logs one line per request (method, path, route, status, error code, actor, latency, request id;
 * never bodies, tokens or PINs).
 */
export function requestContext(
  route: RouteName,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, BankContext> {
  return {
    before: (request) => {
      const { event, context } = request;
      const requestId = event.requestContext?.requestId ?? context.awsRequestId;
      context.bank = {
        route,
        requestId,
        ip: event.requestContext?.http?.sourceIp ?? 'unknown',
        userAgent: event.requestContext?.http?.userAgent ?? event.headers?.['user-agent'] ?? '',
        startedAtMs: Date.now(),
        input: { body: undefined, params: undefined, query: undefined },
        auditRecorded: false,
      };
    },
    after: (request) => finish(request.response, request.context, request.event),
    onError: (request) => finish(request.response, request.context, request.event),
  };
}

function finish(
  response: APIGatewayProxyResultV2 | null | undefined,
  context: BankContext,
  event: APIGatewayProxyEventV2,
): void {
  const state = context.bank;
  if (!state || typeof response !== 'object' || response === null) return;
  const result = response as HttpResult;
  result.headers = { ...result.headers, 'x-request-id': state.requestId };
  const status = result.statusCode ?? 200;
  const problem = status >= 400 ? problemOf(result.body) : undefined;
  const line = {
    method: event.requestContext?.http?.method,
    path: event.rawPath,
    route: state.route,
    status,
    errorCode: problem?.code,
    actor: state.principal?.username ?? state.claimedActor ?? 'anonymous',
    role: state.principal?.role,
    latencyMs: Date.now() - state.startedAtMs,
    requestId: state.requestId,
  };
  // An operator watching at WARN sees what needs a person: failures of ours, accounts locking
  // themselves or refused while locked, and bursts of refused logins (the rate limiter tripping).
  const warning =
    status >= 500
      ? 'request failed'
      : problem?.code === 'ACCOUNT_LOCKED'
        ? 'refused: account locked'
        : problem?.code === 'INVALID_PIN' && problem.attemptsRemaining === 0
          ? 'account locked after too many wrong PINs'
          : problem?.code === 'RATE_LIMITED'
            ? 'refused logins: rate limit reached'
            : undefined;
  if (warning) logger.warn(warning, line);
  else logger.info('request', line);
}

/** The stable `code` of a problem+json body (only error responses are parsed). */
function problemOf(body: unknown): { code?: string; attemptsRemaining?: number } | undefined {
  if (typeof body !== 'string' || !body.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const code = 'code' in parsed && typeof parsed.code === 'string' ? parsed.code : undefined;
    const remaining =
      'attemptsRemaining' in parsed && typeof parsed.attemptsRemaining === 'number'
        ? parsed.attemptsRemaining
        : undefined;
    return {
      ...(code === undefined ? {} : { code }),
      ...(remaining === undefined ? {} : { attemptsRemaining: remaining }),
    };
  } catch {
    return undefined;
  }
}
