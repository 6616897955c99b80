import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { baseHeaders } from '../shared/http';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { runOperation } from '../shared/operations';

/**
 * POST /auth/logout: ends this session in the database. Every token of it, cached as verified
 * or not, is refused from now on, because every operation checks the session.
 */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  await runOperation(context, 'SELECT bank_logout(:ctx)::text', []);
  return { statusCode: 204, headers: { ...baseHeaders }, body: '' };
};

export const handler = middy(core).use(bankStack('auth.logout'));
