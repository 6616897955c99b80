import type { MiddlewareObj } from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteName } from '../../functions/routes';
import { isPublic } from '../auth/policy';
import { config } from '../config';
import { routeSpecs } from '../schemas';
import { audit } from './audit';
import { authenticate } from './authenticate';
import { authorize } from './authorize';
import type { BankContext } from './context';
import { jsonBody } from './json-body';
import { bankMetrics } from './observability';
import { problemErrors } from './problem-errors';
import { requestContext } from './request-context';
import { validate } from './validate';

type BankMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, BankContext>;

/**
 * The one middleware stack, in one place. Order of `before` (and reverse for after/onError):
 * the bank's metrics (read the final response) → request id + logging → security headers → problem+json errors → authentication → audit →
 * RBAC → JSON body → validation → handler core.
 * Authentication and RBAC run before the body is read (DESIGN.md lists body parsing first): an
 * anonymous or forbidden caller learns nothing about the body it sent, and a malformed body
 * from a known caller is still audited against that caller.
 * Usage: `export const handler = middy(core).use(bankStack('accounts.deposit'))`.
 */
export function bankStack(route: RouteName, options: { readonly database?: boolean } = {}): BankMiddleware[] {
  // Fail at cold start, not on the first request, when the environment is wrong.
  config();
  const spec = routeSpecs[route];
  const usesDatabase = options.database ?? true;
  const stack: BankMiddleware[] = [
    bankMetrics(route),
    requestContext(route),
    httpSecurityHeaders() as BankMiddleware,
    problemErrors(),
  ];
  if (!isPublic(route)) stack.push(authenticate());
  if (usesDatabase) stack.push(audit());
  if (!isPublic(route)) stack.push(authorize(route));
  if ('body' in spec && spec.body) stack.push(jsonBody());
  stack.push(validate(spec));
  return stack;
}
