import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { decodeCursor, listResponse, runOperation } from '../shared/operations';
import type { approvalsListQuery } from '../shared/schemas';
import type * as z from '../shared/zod';

/** GET /approvals?status=: tellers and admins see the approvals of large teller movements. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const query = context.bank.input.query as z.output<typeof approvalsListQuery>;
  return listResponse(
    await runOperation(
      context,
      'SELECT bank_approvals_list(:ctx, :status, :limit::int, :before::bigint)::text',
      [
        p.text('status', query.status),
        p.int('limit', query.limit ?? 20),
        p.bigint('before', decodeCursor(query.cursor)),
      ],
    ),
  );
};

export const handler = middy(core).use(bankStack('approvals.list'));
