import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { type Services, startServices } from '../../local/services';
import { createTestDatabase, type TestDatabase } from './db';

/**
 * The whole local request path for one test file: its own database (cloned from the migrated
 * template), a Data API server and the gateway invoking the real handlers. Through HTTP only.
 */
export interface TestStack {
  readonly url: string;
  readonly db: TestDatabase;
  readonly services: Services;
  /** fetch against the gateway; JSON in, parsed JSON out. */
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>;
  /** Creates a user straight in the database (fixture), returning its id. */
  createUser(username: string, password: string, role: 'customer' | 'teller' | 'admin'): Promise<string>;
  /** Logs in through the API and returns the access token. */
  login(username: string, password: string): Promise<string>;
  close(): Promise<void>;
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as-is (for malformed JSON tests). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> & { items?: Array<Record<string, unknown>> };
  readonly text: string;
}

export async function startTestStack(options: { env?: Record<string, string> } = {}): Promise<TestStack> {
  const db = await createTestDatabase();
  const services = await startServices({
    pg: db.pg,
    database: db.name,
    rolePasswords: {
      bank_customer: db.roles.bank_customer.password,
      bank_teller: db.roles.bank_teller.password,
      bank_admin: db.roles.bank_admin.password,
      bank_auth: db.roles.bank_auth.password,
    },
    jwtSecret: randomBytes(48).toString('base64url'),
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // bcrypt's cost changes the time a comparison takes, not its outcome; 4 keeps tests fast.
      BANK_BCRYPT_COST: '4',
      ...options.env,
    },
  });
  const hashCache = new Map<string, string>();
  const stack: TestStack = {
    url: services.url,
    db,
    services,
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
      let body: string | undefined;
      if (callOptions.rawBody !== undefined) body = callOptions.rawBody;
      else if (callOptions.body !== undefined) body = JSON.stringify(callOptions.body);
      if (body !== undefined && headers['content-type'] === undefined)
        headers['content-type'] = 'application/json';
      const response = await fetch(`${services.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await response.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        parsed = {};
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    async createUser(username, password, role) {
      let hash = hashCache.get(password);
      if (!hash) {
        hash = await bcrypt.hash(password, 4);
        hashCache.set(password, hash);
      }
      const client = db.client();
      await client.connect();
      try {
        await client.query('SELECT bank_create_user($1, $2, $3)', [username, hash, role]);
        const row = await client.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [
          username,
        ]);
        const id = row.rows[0]?.id;
        if (!id) throw new Error(`user ${username} was not created`);
        return id;
      } finally {
        await client.end();
      }
    },
    async login(username, password) {
      const response = await stack.call('POST', '/auth/login', { body: { username, password } });
      const token = response.body.accessToken;
      if (response.status !== 200 || typeof token !== 'string') {
        throw new Error(`login of ${username} failed: ${response.status} ${response.text}`);
      }
      return token;
    },
    async close() {
      await services.close();
      await db.drop();
    },
  };
  return stack;
}

/** Runs a query on the test database as the superuser (assertions on rows). */
export async function query<T extends Record<string, unknown>>(
  db: TestDatabase,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = db.client();
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
