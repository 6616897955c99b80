import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteName } from '../../functions/routes';
import type { HttpResult } from '../http';
import { logger } from '../logger';
import type { BankContext } from './context';

/**
 * First in, last out: sets up per-request state, stamps `x-request-id` on every response and
 * logs one line per request (status and latency; never bodies, tokens or PINs).
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
    after: (request) => finish(request.response, request.context),
    onError: (request) => finish(request.response, request.context),
  };
}

function finish(response: APIGatewayProxyResultV2 | null | undefined, context: BankContext): void {
  const state = context.bank;
  if (!state || typeof response !== 'object' || response === null) return;
  const result = response as HttpResult;
  result.headers = { ...result.headers, 'x-request-id': state.requestId };
  logger.info('request', {
    route: state.route,
    requestId: state.requestId,
    status: result.statusCode,
    latencyMs: Date.now() - state.startedAtMs,
    role: state.principal?.role,
  });
}
