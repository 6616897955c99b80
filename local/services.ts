import { routes } from '../functions/routes';
import { type DbRole, dbRoles } from '../shared/auth/db-roles';
import { type DataApiServer, type DbCredentials, startDataApiServer } from './data-api/server';
import { startDataApiServerThread } from './data-api/thread';
import { type Gateway, startGateway } from './gateway';

/**
 * The request path of the cloud, on one machine: an API Gateway-style HTTP gateway invoking the
 * real handler modules, and a Data API server in front of PostgreSQL. The ARNs are local
 * placeholders with the cloud's shape; each role secret maps to its PostgreSQL login role.
 */
export const localClusterArn = 'arn:aws:rds:us-east-1:000000000000:cluster:bank-local';
export const localSecretArn = (role: DbRole): string =>
  `arn:aws:secretsmanager:us-east-1:000000000000:secret:${role}`;

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
}

export interface Services {
  readonly url: string;
  readonly gateway: Gateway;
  readonly dataApi: DataApiServer;
  close(): Promise<void>;
}

export async function startServices(options: ServicesOptions): Promise<Services> {
  const overrides = harnessOverrides(process.env);
  const secrets = new Map<string, DbCredentials>(
    dbRoles.map((role) => [localSecretArn(role), { username: role, password: options.rolePasswords[role] }]),
  );
  const serverOptions = {
    pg: options.pg,
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
  // is set before the gateway serves anything.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    BANK_DB_CLUSTER_ARN: localClusterArn,
    BANK_DB_NAME: options.database,
    BANK_DB_SECRET_ARN_BANK_CUSTOMER: localSecretArn('bank_customer'),
    BANK_DB_SECRET_ARN_BANK_TELLER: localSecretArn('bank_teller'),
    BANK_DB_SECRET_ARN_BANK_ADMIN: localSecretArn('bank_admin'),
    BANK_DATA_API_ENDPOINT: overrides.handlerEndpoint ?? dataApi.url,
    BANK_JWT_SECRET: options.jwtSecret,
    ...options.env,
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      routes,
      host: options.host ?? '127.0.0.1',
      ...(overrides.functionTimeoutMs !== undefined
        ? { functionTimeoutMs: overrides.functionTimeoutMs }
        : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
  } catch (error) {
    await dataApi.close();
    throw error;
  }
  return {
    url: gateway.url,
    gateway,
    dataApi,
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
