import { dbRoles } from '../auth/db-roles';
import type { SqlExecutor } from '../db/migrate';
import { RotationError, type RotationStrategy, type SecretStore } from './rotation';

/** Length of generated database passwords and JWT signing keys (letters and digits). */
export const rotatedPasswordLength = 40;
export const rotatedJwtKeyLength = 64;

interface RoleCredentials {
  readonly username: string;
  readonly password: string;
}

function parseCredentials(value: string): Record<string, unknown> & RoleCredentials {
  const parsed: unknown = JSON.parse(value);
  if (typeof parsed !== 'object' || parsed === null)
    throw new RotationError('the secret is not a JSON object');
  const { username, password } = parsed as Record<string, unknown>;
  if (typeof username !== 'string' || typeof password !== 'string')
    throw new RotationError('the secret has no username/password');
  // Only the application roles: a role secret must never be able to change the owner's password.
  if (!(dbRoles as readonly string[]).includes(username))
    throw new RotationError(`${username} is not an application database role`);
  return { ...(parsed as Record<string, unknown>), username, password };
}

export interface DbRoleRotationPorts {
  /** The schema owner's (master) connection over the Data API: sets the new password. */
  readonly owner: SqlExecutor;
  /** Puts credentials into the probe secret and returns a Data API connection that uses it. */
  readonly probe: (credentials: RoleCredentials) => Promise<SqlExecutor>;
  /** Overwrites the probe secret with a value that opens nothing, once the test is over. */
  readonly clearProbe: () => Promise<void>;
}

/**
 * A database role's password. set: the owner calls bank_set_role_password (a bound parameter, so
 * the password reaches neither the SQL text nor, with log_parameter_max_length=0, the log).
 * test: the Data API reads only a secret's AWSCURRENT version, so the pending credentials are
 * copied into a probe secret, a statement runs with it, and it must run as the role.
 */
export function dbRoleStrategy(ports: DbRoleRotationPorts): RotationStrategy {
  return {
    async create(current: string, store: SecretStore) {
      const credentials = parseCredentials(current);
      return JSON.stringify({ ...credentials, password: await store.randomPassword(rotatedPasswordLength) });
    },
    async set(pending: string) {
      const { username, password } = parseCredentials(pending);
      await ports.owner.transaction((tx) =>
        tx.query('SELECT bank_set_role_password(:role, :password)', { role: username, password }),
      );
    },
    async test(pending: string) {
      const { username, password } = parseCredentials(pending);
      try {
        // A concurrent rotation of another role may overwrite the probe between put and use:
        // the check below notices (another user name) and the attempt repeats.
        for (let attempt = 1; ; attempt++) {
          const probe = await ports.probe({ username, password });
          const rows = await probe.transaction((tx) => tx.query('SELECT current_user AS who'));
          if (rows[0]?.who === username) return;
          if (attempt >= 5)
            throw new RotationError(`the pending credentials of ${username} did not log in as it`);
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      } finally {
        await ports.clearProbe();
      }
    },
  };
}

/**
 * The JWT signing key. Nothing outside Secrets Manager holds it, so set has nothing to do; the
 * functions pick the new key up within their key refresh interval and keep verifying tokens
 * signed with the previous one until those expire (shared/auth/jwt-keys.ts).
 */
export const jwtKeyStrategy: RotationStrategy = {
  async create(_current: string, store: SecretStore) {
    return store.randomPassword(rotatedJwtKeyLength);
  },
  async set() {},
  async test(pending: string) {
    if (pending.length < 32) throw new RotationError('the pending JWT key is shorter than 32 characters');
  },
};
