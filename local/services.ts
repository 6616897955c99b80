import { routes } from '../functions/routes';
import { type DbRole, dbRoles } from '../shared/auth/db-roles';
import { outcomeOf } from '../shared/errors';
import { generateAccessKey } from './data-api/credentials';
import { type DataApiServer, type DbCredentials, startDataApiServer } from './data-api/server';
import type { AccessKey } from './data-api/sigv4';
import { startDataApiServerThread } from './data-api/thread';
import { type Gateway, startGateway } from './gateway';
import { staticFiles } from './static';

/**
 * The request path of the cloud, on one machine: an API Gateway-style HTTP gateway invoking the
 * real handler modules, and a Data API server in front of PostgreSQL. The ARNs are local
 * placeholders with the cloud's shape; each role secret maps to its PostgreSQL login role.
 */
export const localRegion = 'us-east-1';
export const localClusterArn = `arn:aws:rds:${localRegion}:000000000000:cluster:bank-local`;
export const localSecretArn = (role: DbRole): string =>
  `arn:aws:secretsmanager:${localRegion}:000000000000:secret:${role}`;

export interface ServicesOptions {
  readonly pg: { readonly host: string; readonly port: number };
  readonly database: string;
  readonly rolePasswords: Readonly<Record<DbRole, string>>;
  readonly jwtSecret: string;
  readonly host?: string;
  readonly port?: number;
  /** Extra environment for the handlers (e.g. a low bcrypt cost in tests). */
  readonly env?: Readonly<Record<string, string>>;
  readonly transactionIdleTimeoutMs?: number;
  readonly poolSizePerRole?: number;
  /** Run the Data API server on its own worker thread (npm start, the benchmarks); default: this thread. */
  readonly dataApiThread?: boolean;
  /**
   * The access key the handlers sign their Data API calls with, and the only one the server
   * accepts (npm start keeps one in its data directory); a new one for this run when unset.
   */
  readonly dataApiAccessKey?: AccessKey;
}

export interface Services {
  readonly url: string;
  readonly gateway: Gateway;
  readonly dataApi: DataApiServer;
  /** The key the Data API server accepts (tests sign their own calls with it). */
  readonly dataApiAccessKey: AccessKey;
  close(): Promise<void>;
}

export async function startServices(options: ServicesOptions): Promise<Services> {
  const overrides = harnessOverrides(process.env);
  const secrets = new Map<string, DbCredentials>(
    dbRoles.map((role) => [localSecretArn(role), { username: role, password: options.rolePasswords[role] }]),
  );
  const accessKey = options.dataApiAccessKey ?? generateAccessKey();
  const serverOptions = {
    pg: options.pg,
    accessKeys: [accessKey],
    region: localRegion,
    resourceArn: localClusterArn,
    defaultDatabase: options.database,
    ...(overrides.dataApiPort !== undefined ? { port: overrides.dataApiPort } : {}),
    ...(options.transactionIdleTimeoutMs
      ? { transactionIdleTimeoutMs: options.transactionIdleTimeoutMs }
      : {}),
    ...(options.poolSizePerRole ? { poolSizePerRole: options.poolSizePerRole } : {}),
  };
  const dataApi = options.dataApiThread
    ? await startDataApiServerThread({ ...serverOptions, secrets })
    : await startDataApiServer({ ...serverOptions, resolveSecret: (arn) => secrets.get(arn) });
  // The handlers read their environment once, at their first import (a Lambda cold start), so it
  // is set before the gateway serves anything. The key goes where Lambda puts the function's
  // credentials, for the SDK's default provider to find; a session token from the operator's
  // shell would pair a foreign token with this key, so it goes.
  delete process.env.AWS_SESSION_TOKEN;
  Object.assign(process.env, {
    AWS_REGION: localRegion,
    AWS_ACCESS_KEY_ID: accessKey.accessKeyId,
    AWS_SECRET_ACCESS_KEY: accessKey.secretAccessKey,
    BANK_DB_CLUSTER_ARN: localClusterArn,
    BANK_DB_NAME: options.database,
    BANK_DB_SECRET_ARN_BANK_CUSTOMER: localSecretArn('bank_customer'),
    BANK_DB_SECRET_ARN_BANK_TELLER: localSecretArn('bank_teller'),
    BANK_DB_SECRET_ARN_BANK_ADMIN: localSecretArn('bank_admin'),
    BANK_DB_SECRET_ARN_BANK_AUTH: localSecretArn('bank_auth'),
    BANK_DATA_API_ENDPOINT: overrides.handlerEndpoint ?? dataApi.url,
    BANK_JWT_SECRET: options.jwtSecret,
    ...options.env,
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      routes,
      // A body over the gateway's limit never reaches a handler; its audit event is written the
      // way the audit middleware writes any refusal (routes without a database have none).
      onRefusedBeforeHandler: async (refusal) => {
        const route = routes.find((r) => r.name === refusal.route.name);
        if (!route || route.name === 'health' || route.name === 'openapi') return;
        // Imported here, not at the top: the handlers' modules (and the logger they configure from
        // the environment) must load only after the environment below is set.
        const { recordRefusal } = await import('../shared/middleware/audit');
        await recordRefusal({
          route: route.name,
          outcome: outcomeOf(refusal.status),
          details: { status: refusal.status, code: refusal.code },
          actor: 'anonymous',
          sessionId: undefined,
          requestId: refusal.requestId,
          ip: refusal.sourceIp,
          userAgent: refusal.userAgent,
        });
      },
      host: options.host ?? '127.0.0.1',
      ...(overrides.functionTimeoutMs !== undefined
        ? { functionTimeoutMs: overrides.functionTimeoutMs }
        : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      // The web console and the API reference (/console/, /docs), on the API's origin.
      staticFiles: staticFiles(),
    });
  } catch (error) {
    await dataApi.close();
    throw error;
  }
  return {
    url: gateway.url,
    gateway,
    dataApi,
    dataApiAccessKey: accessKey,
    async close() {
      await gateway.close();
      await dataApi.close();
    },
  };
}

/**
 * Overrides for the fault-injection harness (test/chaos), read from the environment because it
 * drives the real `npm start` as a child process: a fixed Data API port (so a proxy in front of
 * it survives restarts), the endpoint the handlers use (that proxy), and the function timeout
 * (the route's Lambda timeout, short enough to fire during a run).
 */
function harnessOverrides(env: NodeJS.ProcessEnv): {
  dataApiPort?: number;
  handlerEndpoint?: string;
  functionTimeoutMs?: number;
} {
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${name} must be an integer ${min}..${max}`);
    return n;
  };
  const endpoint = env.BANK_LOCAL_HANDLER_DATA_API_ENDPOINT;
  if (endpoint && !/^http:\/\/127\.0\.0\.1:[0-9]{1,5}$/.test(endpoint))
    throw new Error('BANK_LOCAL_HANDLER_DATA_API_ENDPOINT must be http://127.0.0.1:<port>');
  const dataApiPort = int('BANK_LOCAL_DATA_API_PORT', 1, 65_535);
  const functionTimeoutMs = int('BANK_LOCAL_FUNCTION_TIMEOUT_MS', 100, 900_000);
  return {
    ...(dataApiPort !== undefined ? { dataApiPort } : {}),
    ...(endpoint ? { handlerEndpoint: endpoint } : {}),
    ...(functionTimeoutMs !== undefined ? { functionTimeoutMs } : {}),
  };
}
