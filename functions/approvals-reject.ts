import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';
import type { approvalParams, rejectBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /approvals/{approvalId}/reject: a second person closes a pending movement; nothing moves. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { approvalId } = context.bank.input.params as z.output<typeof approvalParams>;
  const body = context.bank.input.body as z.output<typeof rejectBody>;
  return respond(
    await runOperation(context, 'SELECT bank_approval_reject(:ctx, :approvalId::uuid, :reason)::text', [
      p.uuid('approvalId', approvalId),
      p.text('reason', body.reason),
    ]),
  );
};

export const handler = middy(core).use(bankStack('approvals.reject'));
