import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { callJson, p } from '../db/data-api';
import { outcomeOf } from '../errors';
import { logger } from '../logger';
import { usernameSchema } from '../schemas';
import type { BankContext } from './context';
import { toBankError } from './problem';

/**
 * Exactly one audit event per request. Operations write theirs inside their own transaction
 * (the SQL functions), and say so with `auditRecorded`; this middleware writes the event for
 * everything refused before an operation ran (401, 403, 400, 413, 415, 429) or that failed
 * (500, rolled back). It records as bank_customer, the least role, because a refused caller's
 * own role may be one this function holds no secret for.
 */
export function audit(): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, BankContext> {
  return {
    after: async (request) => {
      const state = request.context.bank;
      // Every success is audited by its operation; reaching here is a bug, and the database
      // refuses a success through this door, which logs the gap loudly.
      if (state.auditRecorded) return;
      const status = (request.response as { statusCode?: number } | undefined)?.statusCode ?? 200;
      await record(request.context, outcomeOf(status), { status });
    },
    onError: async (request) => {
      const state = request.context.bank;
      if (!state || state.auditRecorded) return;
      const problem = toBankError(request.error);
      if (problem.audited) return;
      if (state.route === 'auth.login' && !state.claimedActor) {
        // A refused login is recorded against the username it tried (SQL keeps only valid names).
        const tried = (request.event.body as unknown as { username?: unknown } | undefined)?.username;
        // Only a name that could be a username: anything else is recorded as 'anonymous' (as the
        // database would), and cannot carry text the audit row could not store.
        if (typeof tried === 'string' && usernameSchema.safeParse(tried).success) state.claimedActor = tried;
      }
      await record(request.context, outcomeOf(problem.status), {
        status: problem.status,
        code: problem.code,
      });
    },
  };
}

async function record(
  context: BankContext,
  outcome: string,
  details: Record<string, unknown>,
): Promise<void> {
  const state = context.bank;
  try {
    await callJson(
      'bank_customer',
      'SELECT to_jsonb(bank_audit_record(:ctx, :action, :outcome, :details))::text',
      [
        p.json('ctx', {
          actor: state.principal?.username ?? state.claimedActor ?? 'anonymous',
          requestId: state.requestId,
          ip: state.ip,
          userAgent: state.userAgent,
        }),
        p.text('action', state.route),
        p.text('outcome', outcome),
        p.json('details', details),
      ],
    );
    state.auditRecorded = true;
  } catch (error) {
    // The response stands (it is a refusal or an error already); the gap is logged loudly.
    logger.error('audit event not recorded', {
      errorName: 'AuditWriteFailed',
      error,
      requestId: state.requestId,
    });
  }
}
