import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { principalOf, runOperation, sessionResponse } from '../shared/operations';
import type { userShape } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /auth/refresh: a new token of the same, still live, session (as a login answers). */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const result = await runOperation(context, 'SELECT bank_session_refresh(:ctx)::text', []);
  return sessionResponse(principalOf(context).sessionId, result.body as z.output<typeof userShape>);
};

export const handler = middy(core).use(bankStack('auth.refresh'));
