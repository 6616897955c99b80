import { routes } from '../functions/routes';
import { type DbRole, dbRoles } from '../shared/auth/db-roles';
import { type DataApiServer, type DbCredentials, startDataApiServer } from './data-api/server';
import { startDataApiServerThread } from './data-api/thread';
import { type Gateway, startGateway } from './gateway';
import { staticFiles } from './static';

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
  const secrets = new Map<string, DbCredentials>(
    dbRoles.map((role) => [localSecretArn(role), { username: role, password: options.rolePasswords[role] }]),
  );
  const serverOptions = {
    pg: options.pg,
    resourceArn: localClusterArn,
    defaultDatabase: options.database,
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
    BANK_DATA_API_ENDPOINT: dataApi.url,
    BANK_JWT_SECRET: options.jwtSecret,
    ...options.env,
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      routes,
      host: options.host ?? '127.0.0.1',
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
    async close() {
      await gateway.close();
      await dataApi.close();
    },
  };
}
