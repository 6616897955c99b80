import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Catalog } from './catalog';
import {
  badRequest,
  DataApiError,
  isConnectionFailure,
  toDataApiError,
  transactionBusy,
  transactionNotFound,
  validation,
} from './errors';
import { type BoundStatement, bindStatement, parseParameters } from './params';
import { type ResultOptions, type Row, toColumnMetadata, toJsonRecords, toRecords } from './results';
import { type AccessKey, createSigV4Verifier } from './sigv4';
import { SqlTemplateCache } from './sql';
import {
  type CallStats,
  callStats,
  countCall,
  OPERATIONS,
  type OperationName,
  operationNames,
  setLatencyMs,
} from './wire';

/**
 * A local stand-in for the RDS Data API (Aurora PostgreSQL): an HTTP server speaking the service's restJson1
 * wire protocol, so the unmodified `@aws-sdk/client-rds-data` client works against it with an `endpoint`
 * override. Statements run on a real PostgreSQL, as the PostgreSQL role named by the call's secret.
 */

export interface DbCredentials {
  readonly username: string;
  readonly password: string;
}

export interface DataApiServerOptions {
  readonly pg: { readonly host: string; readonly port: number };
  /**
   * Who may call: every request must carry a SigV4 signature (service `rds-data`, `region`) made
   * with one of these keys, as the service requires IAM credentials; anything else is refused
   * with AWS's 403 before its body is even parsed.
   */
  readonly accessKeys: readonly AccessKey[];
  /** The region the clients sign for (the SDK client's `region`). */
  readonly region: string;
  /** secretArn -> PostgreSQL login credentials; unknown ARN => BadRequestException-like error the SDK raises (in AWS it is a 400 BadRequestException "... secret ... not found" / AccessDenied; pick BadRequestException). */
  readonly resolveSecret: (secretArn: string) => DbCredentials | undefined;
  /** Accepted resourceArn values; any other => BadRequestException. */
  readonly resourceArn: string;
  /** Database used when a request names none. */
  readonly defaultDatabase: string;
  readonly host?: string; // default 127.0.0.1
  readonly port?: number; // default 0 (ephemeral)
  readonly transactionIdleTimeoutMs?: number; // default 180_000 (3 min, as Aurora)
  readonly responseSizeLimitBytes?: number; // default 1 MiB (1_048_576)
  readonly poolSizePerRole?: number; // default 20 connections per (secret, database) pool
  /** Where to count calls (one slot per operationNames entry); shared memory when the server runs on its own thread. */
  readonly callCounters?: Int32Array;
  /**
   * One Int32 slot: milliseconds to wait before each answer, as the network round trip to the
   * cloud service would (0 by default). The benchmarks set it to compare call patterns at a
   * cloud-like latency; shared memory, so it can be changed while the server runs on its thread.
   */
  readonly latencyMsCell?: Int32Array;
}

export interface DataApiServer {
  readonly url: string; // e.g. http://127.0.0.1:43123
  readonly port: number;
  /** Calls served, per operation name ('ExecuteStatement', 'BatchExecuteStatement', 'BeginTransaction', 'CommitTransaction', 'RollbackTransaction'); for benchmarks that count round trips. */
  readonly stats: CallStats;
  /** Sets the wait before each answer (see DataApiServerOptions.latencyMsCell); 0 turns it off. */
  setLatencyMs(ms: number): void;
  close(): Promise<void>; // rolls back open transactions, ends all pools, closes the HTTP server; leaves no handles
  /** Resolves with the reason when the server stops serving without close() (its thread died). */
  readonly failed?: Promise<string>;
}

/** The service's documented request cap (headers and JSON included; the body alone is checked here). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** SqlStatement shape: max 65,536 characters. */
const MAX_SQL_LENGTH = 65_536;
/** DbName shape: max 64 characters. */
const MAX_DATABASE_LENGTH = 64;
/** formattedRecords may be ten times the records limit (documented: 10 MB against 1 MiB). */
const JSON_RECORDS_FACTOR = 10;

/**
 * Session settings every pooled connection starts with. TimeZone is UTC as in Aurora's default cluster
 * parameter group; the others pin the text formats the result mapping reads (ISO dates, hex bytea).
 * Settings from the startup packet outrank ALTER ROLE / ALTER DATABASE defaults.
 */
const SESSION_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres -c bytea_output=hex';

/** No client-side parsing at all: every value arrives as PostgreSQL's text, mapped later by type OID. */
const RAW_TEXT: pg.CustomTypesConfig = {
  getTypeParser: (() => (value: string) => value) as unknown as pg.CustomTypesConfig['getTypeParser'],
};

const SIZE_LIMIT_MESSAGE = 'Database returned more than the allowed response size limit';

interface RoleDatabasePool {
  readonly pool: pg.Pool;
  readonly credentials: DbCredentials;
  readonly catalog: Catalog;
}

interface Transaction {
  readonly id: string;
  readonly secretArn: string;
  readonly database: string;
  readonly client: pg.PoolClient;
  readonly catalog: Catalog;
  busy: boolean;
  ended: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface CallContext {
  readonly secretArn: string;
  readonly credentials: DbCredentials;
}

/** What pg accepts besides its typed options: `queryMode` forces the extended protocol (one statement). */
interface ExtendedArrayQuery extends pg.QueryArrayConfig {
  readonly queryMode: 'extended';
}

type Body = Record<string, unknown>;

const isRecord = (value: unknown): value is Body =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function optionalString(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${key} must be a string`);
  return value;
}

function requiredString(body: Body, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined || value === '') throw badRequest(`${key} is required`);
  return value;
}

function optionalBoolean(body: Body, key: string): boolean {
  const value = body[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw badRequest(`${key} must be a boolean`);
  return value;
}

function readResultOptions(body: Body): ResultOptions {
  const raw = body.resultSetOptions;
  if (raw === undefined || raw === null) return { decimalAsNumber: false, longAsString: false };
  if (!isRecord(raw)) throw badRequest('resultSetOptions must be an object');
  const decimal = optionalString(raw, 'decimalReturnType') ?? 'STRING';
  const long = optionalString(raw, 'longReturnType') ?? 'LONG';
  if (decimal !== 'STRING' && decimal !== 'DOUBLE_OR_LONG')
    throw badRequest(`Invalid decimalReturnType: ${decimal}`);
  if (long !== 'LONG' && long !== 'STRING') throw badRequest(`Invalid longReturnType: ${long}`);
  return { decimalAsNumber: decimal === 'DOUBLE_OR_LONG', longAsString: long === 'STRING' };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_REQUEST_BYTES) {
      req.resume();
      reject(new DataApiError('BadRequestException', 413, 'Request size exceeds the 4 MiB limit'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        reject(new DataApiError('BadRequestException', 413, 'Request size exceeds the 4 MiB limit'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge)
        resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks));
    });
    req.on('error', reject);
    // A client gone before the end of its body: nothing to answer, but the promise must settle.
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted by the client'));
    });
  });
}

function parseJsonBody(raw: Buffer): Body {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
  if (!isRecord(parsed)) throw badRequest('The request body must be a JSON object');
  return parsed;
}

function send(res: ServerResponse, status: number, body: string, errorType?: string): void {
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  };
  if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
  if (status === 413) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** Byte size check without encoding the whole body when its length already decides. */
function exceeds(body: string, limit: number): boolean {
  if (body.length > limit) return true;
  if (body.length * 3 <= limit) return false;
  return Buffer.byteLength(body) > limit;
}

const DML_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

export async function startDataApiServer(options: DataApiServerOptions): Promise<DataApiServer> {
  const idleTimeoutMs = options.transactionIdleTimeoutMs ?? 180_000;
  const responseLimit = options.responseSizeLimitBytes ?? 1_048_576;
  const poolSize = options.poolSizePerRole ?? 20;
  const templates = new SqlTemplateCache();
  const pools = new Map<string, RoleDatabasePool>();
  const catalogs = new Map<string, Catalog>();
  const retiredPools = new Set<Promise<void>>();
  const transactions = new Map<string, Transaction>();
  const counters = options.callCounters ?? new Int32Array(operationNames.length);
  const sigv4 = createSigV4Verifier({ keys: options.accessKeys, region: options.region });
  const latencyMsCell = options.latencyMsCell ?? new Int32Array(1);
  const answerAfterLatency = async (): Promise<void> => {
    const ms = Atomics.load(latencyMsCell, 0);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  };
  let closing: Promise<void> | undefined;
  /** Names this server's sessions in pg_stat_activity; gains the port once listening. */
  let applicationName = 'rds-data-api-local';

  const catalogFor = (database: string): Catalog => {
    let catalog = catalogs.get(database);
    if (catalog === undefined) {
      catalog = new Catalog();
      catalogs.set(database, catalog);
    }
    return catalog;
  };

  const poolFor = (context: CallContext, database: string): RoleDatabasePool => {
    if (closing !== undefined) {
      throw new DataApiError('ServiceUnavailableError', 503, 'The server is shutting down');
    }
    const key = `${context.secretArn}\u0000${database}`;
    const existing = pools.get(key);
    const { credentials } = context;
    if (
      existing !== undefined &&
      existing.credentials.username === credentials.username &&
      existing.credentials.password === credentials.password
    ) {
      return existing;
    }
    if (existing !== undefined) {
      // The secret was rotated: new connections log in with the new value, checked-out ones finish first.
      const ending = existing.pool.end().catch(() => undefined);
      retiredPools.add(ending);
      void ending.then(() => retiredPools.delete(ending));
    }
    const pool = new pg.Pool({
      host: options.pg.host,
      port: options.pg.port,
      user: credentials.username,
      password: credentials.password,
      database,
      max: poolSize,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
      application_name: applicationName,
      options: SESSION_OPTIONS,
      types: RAW_TEXT,
    });
    // A connection that dies while idle, or while a transaction holds it, must not take the process down;
    // the next call on it fails and is answered as the service would.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    const entry = { pool, credentials, catalog: catalogFor(database) };
    pools.set(key, entry);
    return entry;
  };

  const authorize = (body: Body): CallContext => {
    const resourceArn = requiredString(body, 'resourceArn');
    const secretArn = requiredString(body, 'secretArn');
    if (resourceArn !== options.resourceArn) {
      throw badRequest(`Invalid resource ARN: ${resourceArn}`);
    }
    const credentials = options.resolveSecret(secretArn);
    if (credentials === undefined) {
      throw badRequest(
        `Error fetching secret ${secretArn} : Secrets Manager can't find the specified secret.`,
      );
    }
    if (body.schema !== undefined && body.schema !== null) {
      throw validation("The schema parameter isn't supported");
    }
    return { secretArn, credentials };
  };

  const readDatabase = (body: Body): string | undefined => {
    const database = optionalString(body, 'database');
    if (database !== undefined && database.length > MAX_DATABASE_LENGTH) {
      throw badRequest(`database must be at most ${MAX_DATABASE_LENGTH} characters`);
    }
    return database === '' ? undefined : database;
  };

  const readSql = (body: Body) => {
    const sql = requiredString(body, 'sql');
    if (sql.length > MAX_SQL_LENGTH) {
      throw badRequest(`Number of characters in SQLStatement is longer than ${MAX_SQL_LENGTH}`);
    }
    const template = templates.get(sql);
    if (template.empty) throw badRequest('sql is required');
    if (template.multiStatement) throw validation("Multistatements aren't supported.");
    return template;
  };

  // --- transactions -------------------------------------------------------------------------------------

  const endTransaction = (tx: Transaction, destroyConnection: boolean): void => {
    if (tx.ended) return;
    tx.ended = true;
    if (tx.timer !== undefined) clearTimeout(tx.timer);
    transactions.delete(tx.id);
    tx.client.release(destroyConnection ? true : undefined);
  };

  const armIdleTimer = (tx: Transaction): void => {
    tx.timer = setTimeout(() => {
      if (tx.busy || tx.ended) return;
      transactions.delete(tx.id);
      tx.client.query('ROLLBACK').then(
        () => endTransaction(tx, false),
        () => endTransaction(tx, true),
      );
    }, idleTimeoutMs);
    tx.timer.unref();
  };

  /** Claims a transaction for one call: found, owned by this secret, same database, and not mid-query. */
  const claimTransaction = (id: string, context: CallContext, database: string | undefined): Transaction => {
    const tx = transactions.get(id);
    // Another secret's transaction is reported as missing rather than revealed.
    if (tx === undefined || tx.ended || tx.secretArn !== context.secretArn) throw transactionNotFound(id);
    if (database !== undefined && database !== tx.database) {
      throw badRequest(`Transaction ${id} was started on database ${tx.database}, not ${database}`);
    }
    if (tx.busy) throw transactionBusy();
    tx.busy = true;
    if (tx.timer !== undefined) clearTimeout(tx.timer);
    tx.timer = undefined;
    return tx;
  };

  const unclaimTransaction = (tx: Transaction): void => {
    tx.busy = false;
    if (!tx.ended) armIdleTimer(tx);
  };

  /** Runs `work` on the transaction's connection; a lost connection ends the transaction. */
  const inTransaction = async <T>(
    tx: Transaction,
    work: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> => {
    try {
      return await work(tx.client);
    } catch (error) {
      if (isConnectionFailure(error)) endTransaction(tx, true);
      throw error;
    } finally {
      unclaimTransaction(tx);
    }
  };

  /** Runs `work` on a pooled autocommit connection, leaving it idle (no open transaction) for the next call. */
  const onPooledConnection = async <T>(
    entry: RoleDatabasePool,
    work: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> => {
    const client = await entry.pool.connect();
    let broken = false;
    try {
      return await work(client);
    } catch (error) {
      broken = isConnectionFailure(error);
      throw error;
    } finally {
      if (!broken && client.getTransactionStatus() !== 'I') {
        // A bare BEGIN outside BeginTransaction must not leak into the next caller's session.
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
      }
      client.release(broken ? true : undefined);
    }
  };

  // --- statements ---------------------------------------------------------------------------------------

  const run = (client: pg.PoolClient, statement: BoundStatement) => {
    const query: ExtendedArrayQuery = {
      text: statement.text,
      values: statement.values,
      rowMode: 'array',
      queryMode: 'extended',
    };
    return client.query<Row>(query).catch((error: unknown) => {
      if (error instanceof pg.DatabaseError && error.position !== undefined) {
        error.position = String(statement.originalPosition(Number(error.position)));
      }
      throw error;
    });
  };

  interface ExecuteShape {
    readonly statement: BoundStatement;
    readonly includeMetadata: boolean;
    readonly asJson: boolean;
    readonly resultOptions: ResultOptions;
  }

  const executeOn = async (client: pg.PoolClient, catalog: Catalog, shape: ExecuteShape): Promise<string> => {
    const result = await run(client, shape.statement);
    const command = result.command ?? '';
    const response: Record<string, unknown> = {
      numberOfRecordsUpdated: DML_COMMANDS.has(command) ? (result.rowCount ?? 0) : 0,
      generatedFields: [],
    };
    const hasResultSet = result.fields.length > 0 || command === 'SELECT';
    if (hasResultSet) {
      await catalog.loadTypes(client, result.fields);
      if (shape.asJson) {
        response.formattedRecords = toJsonRecords(
          result.fields,
          result.rows,
          catalog.types,
          shape.resultOptions,
        );
      } else {
        response.records = toRecords(result.fields, result.rows, catalog.types, shape.resultOptions);
        if (shape.includeMetadata) {
          await catalog.loadColumns(client, result.fields);
          response.columnMetadata = toColumnMetadata(result.fields, catalog.types, catalog.columns);
        }
      }
    }
    const body = JSON.stringify(response);
    if (exceeds(body, shape.asJson ? responseLimit * JSON_RECORDS_FACTOR : responseLimit)) {
      throw badRequest(SIZE_LIMIT_MESSAGE);
    }
    return body;
  };

  const executeStatement = async (body: Body): Promise<string> => {
    const context = authorize(body);
    const database = readDatabase(body);
    const template = readSql(body);
    const statement = bindStatement(template, parseParameters(body.parameters));
    const formatRecordsAs = optionalString(body, 'formatRecordsAs') ?? 'NONE';
    if (formatRecordsAs !== 'NONE' && formatRecordsAs !== 'JSON') {
      throw badRequest(`Invalid formatRecordsAs: ${formatRecordsAs}`);
    }
    // Validated only: nothing here stops a statement after Aurora's 45 s call timeout, so there is
    // nothing for continueAfterTimeout to change.
    optionalBoolean(body, 'continueAfterTimeout');
    const shape: ExecuteShape = {
      statement,
      includeMetadata: optionalBoolean(body, 'includeResultMetadata'),
      asJson: formatRecordsAs === 'JSON',
      resultOptions: readResultOptions(body),
    };
    const transactionId = optionalString(body, 'transactionId');
    if (transactionId !== undefined) {
      const tx = claimTransaction(transactionId, context, database);
      return inTransaction(tx, (client) => executeOn(client, tx.catalog, shape));
    }
    const entry = poolFor(context, database ?? options.defaultDatabase);
    return onPooledConnection(entry, (client) => executeOn(client, entry.catalog, shape));
  };

  const batchExecuteStatement = async (body: Body): Promise<string> => {
    const context = authorize(body);
    const database = readDatabase(body);
    const template = readSql(body);
    const rawSets = body.parameterSets ?? [];
    if (!Array.isArray(rawSets)) throw badRequest('parameterSets must be a list');
    // Every set is checked before any runs, so a malformed set cannot leave half a batch applied.
    const statements = rawSets.map((set: unknown) => bindStatement(template, parseParameters(set)));
    const response = JSON.stringify({ updateResults: statements.map(() => ({ generatedFields: [] })) });
    const runAll = async (client: pg.PoolClient): Promise<void> => {
      for (const statement of statements) await run(client, statement);
    };
    const transactionId = optionalString(body, 'transactionId');
    if (transactionId !== undefined) {
      const tx = claimTransaction(transactionId, context, database);
      await inTransaction(tx, runAll);
      return response;
    }
    if (statements.length === 0) return response;
    const entry = poolFor(context, database ?? options.defaultDatabase);
    // Outside a transaction the batch is still all-or-nothing, as one JDBC batch is.
    await onPooledConnection(entry, async (client) => {
      await client.query('BEGIN');
      await runAll(client);
      await client.query('COMMIT');
    });
    return response;
  };

  const beginTransaction = async (body: Body): Promise<string> => {
    const context = authorize(body);
    const database = readDatabase(body) ?? options.defaultDatabase;
    const entry = poolFor(context, database);
    const client = await entry.pool.connect();
    try {
      await client.query('BEGIN');
    } catch (error) {
      client.release(true);
      throw error;
    }
    if (closing !== undefined) {
      // close() began meanwhile and no longer sees new transactions: hand the connection back now, or
      // pool.end() would wait for it forever.
      client.release(true);
      throw new DataApiError('ServiceUnavailableError', 503, 'The server is shutting down');
    }
    const tx: Transaction = {
      id: randomBytes(36).toString('base64'),
      secretArn: context.secretArn,
      database,
      client,
      catalog: entry.catalog,
      busy: false,
      ended: false,
      timer: undefined,
    };
    transactions.set(tx.id, tx);
    armIdleTimer(tx);
    return JSON.stringify({ transactionId: tx.id });
  };

  const finishTransaction = async (body: Body, command: 'COMMIT' | 'ROLLBACK'): Promise<void> => {
    const context = authorize(body);
    const id = requiredString(body, 'transactionId');
    const tx = claimTransaction(id, context, undefined);
    let result: pg.QueryResult;
    try {
      result = await tx.client.query(command);
    } catch (error) {
      // Either way the transaction is over: PostgreSQL ended it (the session is reusable), or the
      // connection is gone.
      endTransaction(tx, isConnectionFailure(error));
      throw error;
    } finally {
      tx.busy = false;
    }
    endTransaction(tx, false);
    if (command === 'COMMIT' && result.command === 'ROLLBACK') {
      // COMMIT of a transaction that already failed rolls it back; PgJDBC reports that as an error.
      throw new DataApiError(
        'DatabaseErrorException',
        400,
        'ERROR: The database returned ROLLBACK, so the transaction cannot be committed. Transaction failure cause is an earlier error in this transaction; SQLState: 25P02',
      );
    }
  };

  const handlers: Record<OperationName, (body: Body) => Promise<string>> = {
    ExecuteStatement: executeStatement,
    BatchExecuteStatement: batchExecuteStatement,
    BeginTransaction: beginTransaction,
    CommitTransaction: async (body) => {
      await finishTransaction(body, 'COMMIT');
      return JSON.stringify({ transactionStatus: 'Transaction Committed' });
    },
    RollbackTransaction: async (body) => {
      await finishTransaction(body, 'ROLLBACK');
      return JSON.stringify({ transactionStatus: 'Rollback Complete' });
    },
  };

  // --- HTTP ---------------------------------------------------------------------------------------------

  const routes = new Map<string, OperationName>(Object.entries(OPERATIONS));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.on('error', () => undefined);
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const operation =
      req.method === 'POST' ? routes.get(query === -1 ? url : url.slice(0, query)) : undefined;
    if (operation === undefined) {
      req.resume();
      send(
        res,
        404,
        JSON.stringify({ message: `No operation at ${req.method ?? ''} ${url}` }),
        'UnknownOperationException',
      );
      return;
    }
    countCall(counters, operation);
    try {
      // The signature first, then the secret: nothing the caller sent is read as a call, nor any
      // secret looked up, until the request is proven to come from a holder of an access key.
      const signed = {
        method: 'POST',
        path: query === -1 ? url : url.slice(0, query),
        query: query === -1 ? '' : url.slice(query + 1),
        headers: req.headers,
      };
      const claim = sigv4.claim(signed);
      const raw = await readBody(req);
      await sigv4.verify(claim, signed, raw);
      const body = parseJsonBody(raw);
      const answer = await handlers[operation](body);
      await answerAfterLatency();
      send(res, 200, answer);
    } catch (error) {
      // A request refused before its body was read: drain it, so the connection stays usable.
      req.resume();
      const failure = toDataApiError(error);
      await answerAfterLatency();
      send(res, failure.status, JSON.stringify({ message: failure.message }), failure.type);
    }
  };

  const server = createServer((req, res) => {
    req.on('error', () => undefined);
    void handle(req, res);
  });
  server.on('clientError', (_error, socket) => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  applicationName = `rds-data-api-local:${address.port}`;
  const host = options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;

  const shutdown = async (): Promise<void> => {
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await Promise.all(
      [...transactions.values()].map(async (tx) => {
        if (tx.busy) {
          // Mid-query: dropping the connection makes PostgreSQL roll back without waiting for the query.
          endTransaction(tx, true);
          return;
        }
        if (tx.timer !== undefined) clearTimeout(tx.timer);
        tx.busy = true;
        try {
          await tx.client.query('ROLLBACK');
          endTransaction(tx, false);
        } catch {
          endTransaction(tx, true);
        }
      }),
    );
    await Promise.all([...pools.values()].map((entry) => entry.pool.end().catch(() => undefined)));
    pools.clear();
    await Promise.all(retiredPools);
    await serverClosed;
  };

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    stats: callStats(counters),
    setLatencyMs: (ms) => setLatencyMs(latencyMsCell, ms),
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
