import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';

/** GET /me: the caller's own user record. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) =>
  respond(await runOperation(context, 'SELECT bank_me(:ctx)::text', []));

export const handler = middy(core).use(bankStack('me.get'));
