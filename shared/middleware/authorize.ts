import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteName } from '../../functions/routes';
import { grantFor } from '../auth/policy';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import type { BankContext } from './context';

/**
 * Role-level RBAC from the one policy table. It runs before body validation: a role that may not
 * call a route at all learns nothing about the route's schema. Ownership ("own") is decided with
 * the data, by the SQL function, and answered 404 so foreign account numbers are not confirmed.
 */
export function authorize(
  route: RouteName,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, BankContext> {
  return {
    before: (request) => {
      const principal = request.context.bank.principal;
      if (!principal) throw new UnauthenticatedError();
      if (grantFor(route, principal.role) === undefined) throw new ForbiddenError();
    },
  };
}
