import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { decodeCursor, listResponse, runOperation } from '../shared/operations';
import type { auditQuery } from '../shared/schemas';
import type * as z from '../shared/zod';

/** GET /audit-logs (admin): the audit trail, newest first, filtered by actor/action/outcome. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const query = context.bank.input.query as z.output<typeof auditQuery>;
  return listResponse(
    await runOperation(
      context,
      'SELECT bank_audit_list(:ctx, :actor, :action, :outcome, :accountNo, :from::timestamptz, :to::timestamptz, :limit::int, :before::bigint)::text',
      [
        p.text('actor', query.actor),
        p.text('action', query.action),
        p.text('outcome', query.outcome),
        p.text('accountNo', query.accountNo),
        p.text('from', query.from),
        p.text('to', query.to),
        p.int('limit', query.limit ?? 20),
        p.bigint('before', decodeCursor(query.cursor)),
      ],
    ),
  );
};

export const handler = middy(core).use(bankStack('auditLogs.list'));
