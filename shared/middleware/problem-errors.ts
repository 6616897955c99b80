import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { DatabaseCallError } from '../db/data-api';
import { logger } from '../logger';
import type { BankContext } from './context';
import { problemResponse, toBankError } from './problem';

/** Turns any error into application/problem+json; 5xx details go to the log, never out. */
export function problemErrors(): MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  Error,
  BankContext
> {
  return {
    onError: (request) => {
      const problem = toBankError(request.error);
      if (problem.status >= 500) {
        const error = request.error;
        logger.error('unhandled error', {
          errorName: error instanceof DatabaseCallError ? error.errorName : (error?.name ?? 'Error'),
          error: error ?? undefined,
          requestId: request.context.bank?.requestId,
        });
      }
      request.response = problemResponse(
        problem,
        request.context.bank?.requestId ?? request.context.awsRequestId,
      );
    },
  };
}
