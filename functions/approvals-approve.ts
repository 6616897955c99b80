import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';
import type { approvalParams } from '../shared/schemas';
import type * as z from '../shared/zod';

/**
 * POST /approvals/{approvalId}/approve: a second person executes a pending movement. Who the
 * checker is, and that it is not the maker, the database reads from the session; the movement
 * runs in that same call with every check made again.
 */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { approvalId } = context.bank.input.params as z.output<typeof approvalParams>;
  return respond(
    await runOperation(context, 'SELECT bank_approval_approve(:ctx, :approvalId::uuid)::text', [
      p.uuid('approvalId', approvalId),
    ]),
  );
};

export const handler = middy(core).use(bankStack('approvals.approve'));
