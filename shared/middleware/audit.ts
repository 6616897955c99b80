import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { RouteName } from '../../functions/routes';
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
 * own role may be one this function holds no secret for; the login function records as
 * bank_auth, the one role it holds (which may record refused logins and nothing else).
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
    const written = await recordRefusal({
      route: state.route,
      outcome,
      details,
      actor: state.principal?.username ?? state.claimedActor ?? 'anonymous',
      sessionId: state.principal?.sessionId,
      requestId: state.requestId,
      ip: state.ip,
      userAgent: state.userAgent,
    });
    state.auditRecorded = true;
    if (!written) {
      // The request already has its event: its operation's own (a success, or a refusal it
      // recorded), committed although the handler never saw the answer (lost on the way back, or
      // later than the function's own timeout). That event says what happened; the client, told
      // the request failed, retries with its Idempotency-Key and gets the replay.
      logger.warn('the operation recorded this request already; its outcome was not seen here', {
        errorName: 'OperationOutcomeUnseen',
        requestId: state.requestId,
        outcome,
        ...details,
      });
    }
  } catch (error) {
    // The response stands (it is a refusal or an error already); the gap is logged loudly.
    logger.error('audit event not recorded', {
      errorName: 'AuditWriteFailed',
      error,
      requestId: state.requestId,
    });
  }
}

export interface Refusal {
  readonly route: RouteName;
  readonly outcome: string;
  readonly details: Record<string, unknown>;
  /** Who the request claims to be; the database prefers the live session's user when there is one. */
  readonly actor: string;
  readonly sessionId: string | undefined;
  readonly requestId: string;
  readonly ip: string;
  readonly userAgent: string;
}

/**
 * Writes one refusal's audit event (never a success: the database refuses those here). Also
 * used by the local gateway for a body it refuses before any handler runs (413). Returns false
 * when the request already had its event, which then stands alone (one event per request): the
 * database decides, atomically with the operation that wrote it.
 */
export async function recordRefusal(refusal: Refusal): Promise<boolean> {
  const result = await callJson(
    refusal.route === 'auth.login' ? 'bank_auth' : 'bank_customer',
    "SELECT jsonb_build_object('id', bank_audit_record(:ctx, :action, :outcome, :details))::text",
    [
      p.json('ctx', {
        actor: refusal.actor,
        ...(refusal.sessionId === undefined ? {} : { sid: refusal.sessionId }),
        requestId: refusal.requestId,
        ip: refusal.ip,
        userAgent: refusal.userAgent,
      }),
      p.text('action', refusal.route),
      p.text('outcome', refusal.outcome),
      p.json('details', refusal.details),
    ],
  );
  if (typeof result !== 'object' || result === null || !('id' in result))
    throw new Error('the database returned an unexpected result');
  return typeof result.id === 'string';
}
