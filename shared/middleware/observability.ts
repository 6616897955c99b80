import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteName } from '../../functions/routes';
import { countMovement, countRefusedLogin, type MovementKind, publishMetrics } from '../metrics';
import { parseAmountMinor } from '../money';
import type { BankContext } from './context';

type BankMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, BankContext>;

const movementKinds: Partial<Record<RouteName, MovementKind>> = {
  'accounts.deposit': 'deposit',
  'accounts.withdraw': 'withdrawal',
  'transfers.create': 'transfer',
};

/**
 * The bank's figures per request, read from the final response (after problem+json turned any
 * error into one): a completed movement (201/200, not an idempotent replay) and its amount, a
 * refused login (401, or 429 when rate-limited). PIN lockouts are counted where the database
 * answers a wrong PIN (shared/operations.ts).
 */
export function bankMetrics(route: RouteName): BankMiddleware {
  const finish = (request: {
    response: APIGatewayProxyResultV2 | null | undefined;
    context: BankContext;
  }) => {
    const response = request.response;
    const status =
      typeof response === 'object' && response !== null ? (response.statusCode ?? 200) : undefined;
    const replayed =
      typeof response === 'object' &&
      response !== null &&
      response.headers?.['idempotent-replayed'] === 'true';
    const kind = movementKinds[route];
    if (kind && status !== undefined && status >= 200 && status < 300 && !replayed) {
      const amount = (request.context.bank?.input.body as { amount?: unknown } | undefined)?.amount;
      if (typeof amount === 'string') countMovement(kind, parseAmountMinor(amount));
    }
    if (route === 'auth.login' && (status === 401 || status === 429)) countRefusedLogin();
    publishMetrics();
  };
  return { after: finish, onError: finish };
}
