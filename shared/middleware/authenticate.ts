import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { verifyToken } from '../auth/jwt';
import { UnauthenticatedError } from '../errors';
import type { BankContext } from './context';

// The auth scheme name is case-insensitive (RFC 9110 §11.1).
const bearerPattern = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;
const tokenBytesMax = 4096;

/** Verifies the bearer token (jose, HS256 only, iss, aud, exp) and records the principal. */
export function authenticate(): MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  Error,
  BankContext
> {
  return {
    before: async (request) => {
      const header = request.event.headers?.authorization;
      if (!header) throw new UnauthenticatedError('an Authorization: Bearer token is required');
      const match = header.length <= tokenBytesMax ? bearerPattern.exec(header) : null;
      if (!match?.[1]) throw new UnauthenticatedError('the Authorization header is not a bearer token');
      request.context.bank.principal = await verifyToken(match[1]);
    },
  };
}
