import type { RDSDataClient, SqlParameter } from '@aws-sdk/client-rds-data';
import type { DbRole } from '../auth/db-roles';
import { clusterArn, config, secretArnFor } from '../config';
import { BankError, ForbiddenError, UnauthenticatedError, ValidationError } from '../errors';

/**
 * The only door to the database: one RDS Data API call per operation. The caller's database role
 * (and so its Secrets Manager secret) is chosen by the token's role, so PostgreSQL itself refuses
 * what the tier may not do.
 *
 * Money never travels as `longValue`/`doubleValue` (they lose precision past 2^53): bigint
 * parameters go as decimal strings cast in SQL, results come back as JSON text.
 */

export type Param =
  | { readonly kind: 'text'; readonly name: string; readonly value: string | null }
  | { readonly kind: 'int'; readonly name: string; readonly value: number | null }
  | { readonly kind: 'bigint'; readonly name: string; readonly value: bigint | null }
  | { readonly kind: 'bool'; readonly name: string; readonly value: boolean }
  | { readonly kind: 'json'; readonly name: string; readonly value: unknown }
  | { readonly kind: 'uuid'; readonly name: string; readonly value: string | null };

export const p = {
  text: (name: string, value: string | null | undefined): Param => ({
    kind: 'text',
    name,
    value: value ?? null,
  }),
  int: (name: string, value: number | null | undefined): Param => ({
    kind: 'int',
    name,
    value: value ?? null,
  }),
  bigint: (name: string, value: bigint | null | undefined): Param => ({
    kind: 'bigint',
    name,
    value: value ?? null,
  }),
  bool: (name: string, value: boolean): Param => ({ kind: 'bool', name, value }),
  json: (name: string, value: unknown): Param => ({ kind: 'json', name, value }),
  uuid: (name: string, value: string | null | undefined): Param => ({
    kind: 'uuid',
    name,
    value: value ?? null,
  }),
};

function toSqlParameter(param: Param): SqlParameter {
  const { name } = param;
  switch (param.kind) {
    case 'text':
      return param.value === null
        ? { name, value: { isNull: true } }
        : { name, value: { stringValue: param.value } };
    case 'int':
      if (param.value !== null && !Number.isSafeInteger(param.value))
        throw new TypeError(`${name} is not a safe integer`);
      return param.value === null
        ? { name, value: { isNull: true } }
        : { name, value: { longValue: param.value } };
    case 'bigint':
      // Sent as text and cast with ::bigint in the SQL: exact at any size.
      return param.value === null
        ? { name, value: { isNull: true } }
        : { name, value: { stringValue: param.value.toString() } };
    case 'bool':
      return { name, value: { booleanValue: param.value } };
    case 'json':
      return { name, value: { stringValue: JSON.stringify(param.value) }, typeHint: 'JSON' };
    case 'uuid':
      return param.value === null
        ? { name, value: { isNull: true } }
        : { name, value: { stringValue: param.value }, typeHint: 'UUID' };
  }
}

type RdsData = typeof import('@aws-sdk/client-rds-data');
let sdk: Promise<{ module: RdsData; client: RDSDataClient }> | undefined;

/**
 * The SDK is loaded on the first database call, not at import: functions that never touch the
 * database (health, openapi) do not pay its load time on a cold start.
 */
function dataApi(): Promise<{ module: RdsData; client: RDSDataClient }> {
  sdk ??= import('@aws-sdk/client-rds-data').then((module) => {
    const c = config();
    const client = new module.RDSDataClient({
      region: c.AWS_REGION,
      // No SDK retries: a retried ExecuteStatement whose first attempt committed would move money
      // twice. Only errors that prove the statement never ran are retried, below.
      maxAttempts: 1,
      // Resolve the middleware stack once per command type, not on every call.
      cacheMiddleware: true,
      // Credentials come from the SDK's default provider, as in Lambda: AWS_ACCESS_KEY_ID and
      // AWS_SECRET_ACCESS_KEY. Locally those hold the key the local Data API server checks
      // signatures against (local/services.ts), so the request is signed exactly as in the cloud.
      ...(c.BANK_DATA_API_ENDPOINT ? { endpoint: c.BANK_DATA_API_ENDPOINT } : {}),
    });
    return { module, client };
  });
  return sdk;
}

const resumeRetriesMax = 5;
const resumeBackoffMs = 400;

/** Runs one statement that returns one row with one JSON text column, and parses it. */
export async function callJson(role: DbRole, sql: string, params: readonly Param[]): Promise<unknown> {
  const { module, client } = await dataApi();
  const command = new module.ExecuteStatementCommand({
    resourceArn: clusterArn(),
    secretArn: secretArnFor(role),
    database: config().BANK_DB_NAME,
    sql,
    parameters: params.map(toSqlParameter),
  });
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await client.send(command);
      const field = result.records?.[0]?.[0];
      if (!field || field.stringValue === undefined) throw new Error('the database returned no JSON result');
      return JSON.parse(field.stringValue) as unknown;
    } catch (error) {
      // Aurora Serverless v2 waking from zero capacity: the statement did not run; wait and retry.
      if (errorName(error) === 'DatabaseResumingException' && attempt < resumeRetriesMax) {
        await new Promise((resolve) => setTimeout(resolve, resumeBackoffMs * (attempt + 1)));
        continue;
      }
      throw mapDatabaseError(error);
    }
  }
}

/**
 * SQL functions raise `bank:CODE detail` for conditions the API layer should have stopped; map
 * them to problems without leaking SQL text. Everything else stays an internal error.
 */
export function mapDatabaseError(error: unknown): unknown {
  const name = errorName(error);
  if (error instanceof Error && (name === 'DatabaseErrorException' || name === 'BadRequestException')) {
    const match = /bank:([A-Z_]+)/.exec(error.message);
    switch (match?.[1]) {
      case 'VALIDATION_FAILED':
        return new ValidationError('the request is not valid');
      case 'FORBIDDEN':
        return new ForbiddenError();
      case 'UNAUTHENTICATED':
        return new UnauthenticatedError();
      default:
        return new DatabaseCallError(name, error.message);
    }
  }
  return error;
}

/**
 * SDK errors are matched by name, not class: the name is the Data API's wire error type, the same
 * whichever copy of the SDK (bundled, or one a test or tool brings) made the exception object.
 */
function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** A database failure; its message is for logs only, never for the client. */
export class DatabaseCallError extends Error {
  override name = 'DatabaseCallError';
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

/** The shape every operation function returns; see migrations/0004_operations.sql. */
export interface OperationResult {
  readonly status: number;
  readonly body?: unknown;
  readonly error?: { readonly code: string; readonly detail: string } & Readonly<Record<string, unknown>>;
  readonly replayed?: boolean;
  readonly next?: number | null;
}

export function isOperationResult(value: unknown): value is OperationResult {
  return (
    typeof value === 'object' && value !== null && typeof (value as { status?: unknown }).status === 'number'
  );
}

/** Throws the (already audited) refusal of an operation result, or returns it. */
export function expectSuccess(result: unknown): OperationResult {
  if (!isOperationResult(result)) throw new Error('the database returned an unexpected result');
  if (result.error) {
    const { code, detail, ...extra } = result.error;
    throw new BankError(result.status, code, detail, extra, true);
  }
  return result;
}
