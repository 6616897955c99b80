import * as z from 'zod';
import type { DbRole } from './auth/db-roles';

/**
 * Environment, read and validated once per cold start. A function gets only the secret ARNs of
 * the database roles it may use (cdk/ wires them from the RBAC policy), so a missing one is a
 * deployment error that fails loudly on first use, not a silent fallback to another role.
 */
const envSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  BANK_DB_CLUSTER_ARN: z.string().startsWith('arn:').optional(),
  BANK_DB_NAME: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('bank'),
  BANK_DB_SECRET_ARN_BANK_CUSTOMER: z.string().startsWith('arn:').optional(),
  BANK_DB_SECRET_ARN_BANK_TELLER: z.string().startsWith('arn:').optional(),
  BANK_DB_SECRET_ARN_BANK_ADMIN: z.string().startsWith('arn:').optional(),
  /** Local only: the local Data API server. Unset in the cloud. */
  BANK_DATA_API_ENDPOINT: z.url().optional(),
  /** Local only: the HS256 signing key itself. In the cloud, BANK_JWT_SECRET_ARN names it. */
  BANK_JWT_SECRET: z.string().min(32).optional(),
  BANK_JWT_SECRET_ARN: z.string().startsWith('arn:').optional(),
  BANK_JWT_ISSUER: z.string().min(1).default('https://bank.local/'),
  BANK_JWT_AUDIENCE: z.string().min(1).default('bank-api'),
  BANK_MAX_PIN_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  BANK_BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(10),
  BANK_LOGIN_USER_FAILURES_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  BANK_LOGIN_IP_FAILURES_MAX: z.coerce.number().int().min(1).max(10000).default(50),
  BANK_LOGIN_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(900),
});

export type BankConfig = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

let cached: BankConfig | undefined;

export function config(): BankConfig {
  if (cached) return cached;
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  cached = parsed.data;
  return cached;
}

export function secretArnFor(role: DbRole): string {
  const c = config();
  const arn = {
    bank_customer: c.BANK_DB_SECRET_ARN_BANK_CUSTOMER,
    bank_teller: c.BANK_DB_SECRET_ARN_BANK_TELLER,
    bank_admin: c.BANK_DB_SECRET_ARN_BANK_ADMIN,
  }[role];
  if (!arn) throw new ConfigError(`this function has no secret for database role ${role}`);
  return arn;
}

export function clusterArn(): string {
  const arn = config().BANK_DB_CLUSTER_ARN;
  if (!arn) throw new ConfigError('BANK_DB_CLUSTER_ARN is not set');
  return arn;
}
