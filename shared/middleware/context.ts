import type { Context } from 'aws-lambda';
import type { RouteName } from '../../functions/routes';
import type { Principal } from '../auth/jwt';

/**
 * Per-request state the middlewares share with the handler core, on the Lambda context (as
 * middy's own middlewares add to context). A Lambda context object is per invocation.
 */
export interface BankState {
  readonly route: RouteName;
  requestId: string;
  ip: string;
  userAgent: string;
  startedAtMs: number;
  principal?: Principal;
  /** Validated input, set by the validation middleware. */
  input: { body: unknown; params: unknown; query: unknown };
  idempotencyKey?: string;
  /** The database wrote this request's audit event in the operation's own transaction. */
  auditRecorded: boolean;
  /** Who an anonymous request claims to be (the username tried on a login). */
  claimedActor?: string;
}

export interface BankContext extends Context {
  bank: BankState;
}
