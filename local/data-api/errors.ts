import pg from 'pg';

/**
 * An error the server answers with, restJson1 style: the status code, `x-amzn-ErrorType: <type>` and
 * `{"message": …}`. The SDK picks the exception class from the header.
 */
export class DataApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export const badRequest = (message: string): DataApiError =>
  new DataApiError('BadRequestException', 400, message);

/**
 * Aurora Serverless v2 refuses multi-statement SQL and the `schema` parameter with `ValidationException`
 * (AWS: "Comparing Amazon RDS Data API behaviors…"). The SDK has no class for it, so it surfaces as an
 * `RDSDataServiceException` named `ValidationException`, exactly as against the real service.
 */
export const validation = (message: string): DataApiError =>
  new DataApiError('ValidationException', 400, message);

export const transactionNotFound = (id: string): DataApiError =>
  new DataApiError('TransactionNotFoundException', 404, `Transaction ${id} is not found`);

/** AWS documents this for Aurora Serverless v2: `DatabaseErrorException: Transaction is still running a query`. */
export const transactionBusy = (): DataApiError =>
  new DataApiError('DatabaseErrorException', 400, 'Transaction is still running a query');

/** A PostgreSQL error, worded as Aurora's JDBC layer words it (PgJDBC's ServerErrorMessage + SQLState). */
export function databaseError(error: pg.DatabaseError): DataApiError {
  let text = `${error.severity ?? 'ERROR'}: ${error.message}`;
  if (error.detail) text += `\n  Detail: ${error.detail}`;
  if (error.hint) text += `\n  Hint: ${error.hint}`;
  if (error.position) text += `\n  Position: ${error.position}`;
  if (error.where) text += `\n  Where: ${error.where}`;
  if (error.code) text += `; SQLState: ${error.code}`;
  return new DataApiError('DatabaseErrorException', 400, text);
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/** True when PostgreSQL itself could not be reached or dropped the connection. */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof pg.DatabaseError) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return true;
  return /Connection terminated|not queryable|timeout exceeded when trying to connect/i.test(error.message);
}

/**
 * Maps anything thrown while serving a call to what the service would answer.
 *
 * - PostgreSQL errors, including a refused login for the secret's credentials (28P01), are
 *   `DatabaseErrorException`: the Data API reports what the database said, with its SQLSTATE.
 * - PostgreSQL being unreachable is `DatabaseUnavailableException` (504), the service's "writer
 *   instance isn't available".
 * - Anything else is `InternalServerErrorException` (500).
 */
export function toDataApiError(error: unknown): DataApiError {
  if (error instanceof DataApiError) return error;
  if (error instanceof pg.DatabaseError) return databaseError(error);
  if (isConnectionFailure(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new DataApiError('DatabaseUnavailableException', 504, `The database is unavailable: ${detail}`);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new DataApiError('InternalServerErrorException', 500, `An internal error occurred: ${detail}`);
}
