import type { DbRole } from './auth/db-roles';
import { amountPattern, parseAmountMinor } from './money';
import * as z from './zod';

/** What each integer setting allows, so a start-up error can say it (local/settings.ts). */
export const envIntRanges = new WeakMap<object, { readonly min: number; readonly max: number }>();

/** An integer environment variable within [min, max], `fallback` when unset. */
export const envInt = (min: number, max: number, fallback: number) => {
  const schema = z._default(z.coerce.number().check(z.int(), z.gte(min), z.lte(max)), fallback);
  envIntRanges.set(schema, { min, max });
  return schema;
};
/** A decimal money environment variable (API.md: "1000.00"), as minor units; `fallback` when unset. */
export const envMoney = (fallback: string) =>
  z.pipe(
    z._default(
      z.string().check(
        z.regex(amountPattern, 'must be a decimal string like "1000.00"'),
        // Range as for a request amount (> 0, <= 1000000000.00), reported as an issue naming the
        // variable rather than thrown from the transform.
        z.refine((text) => {
          try {
            parseAmountMinor(text);
            return true;
          } catch {
            return false;
          }
        }, 'must be greater than 0 and at most 1000000000.00'),
      ),
      fallback,
    ),
    z.transform((text: string) => parseAmountMinor(text)),
  );
const arn = () => z.optional(z.string().check(z.startsWith('arn:')));

/**
 * Environment, read and validated once per cold start. A function gets only the secret ARNs of
 * the database roles it may use (cdk/ wires them from the RBAC policy), so a missing one is a
 * deployment error that fails loudly on first use, not a silent fallback to another role.
 */
export const envSchema = z.object({
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  BANK_DB_CLUSTER_ARN: arn(),
  BANK_DB_NAME: z._default(z.string().check(z.regex(/^[a-z_][a-z0-9_]{0,62}$/)), 'bank'),
  BANK_DB_SECRET_ARN_BANK_CUSTOMER: arn(),
  BANK_DB_SECRET_ARN_BANK_TELLER: arn(),
  BANK_DB_SECRET_ARN_BANK_ADMIN: arn(),
  BANK_DB_SECRET_ARN_BANK_AUTH: arn(),
  /** Local only: the local Data API server. Unset in the cloud. */
  BANK_DATA_API_ENDPOINT: z.optional(z.url()),
  /** Local only: the HS256 signing key itself. In the cloud, BANK_JWT_SECRET_ARN names it. */
  BANK_JWT_SECRET: z.optional(z.string().check(z.minLength(32))),
  BANK_JWT_SECRET_ARN: arn(),
  BANK_JWT_ISSUER: z._default(z.string().check(z.minLength(1)), 'https://bank.local/'),
  BANK_JWT_AUDIENCE: z._default(z.string().check(z.minLength(1)), 'bank-api'),
  BANK_BCRYPT_COST: envInt(4, 15, 10),
  BANK_LOGIN_USER_FAILURES_MAX: envInt(1, 1000, 10),
  BANK_LOGIN_IP_FAILURES_MAX: envInt(1, 10000, 50),
  BANK_LOGIN_WINDOW_S: envInt(1, 86_400, 900),
  /** API.md v1.1: a customer's movement of at least this needs a TOTP code (minor units). */
  BANK_STEP_UP_AMOUNT: envMoney('1000.00'),
  /** The issuer shown by authenticator apps for this bank's TOTP entries. */
  BANK_TOTP_ISSUER: z._default(z.string().check(z.minLength(1), z.maxLength(64)), 'Bank'),
  /** API.md v1.1: a customer's debits per account per UTC day (minor units). */
  BANK_DAILY_DEBIT_LIMIT: envMoney('5000.00'),
  /** API.md v1.1: a teller's movement of at least this waits for a second person (minor units). */
  BANK_APPROVAL_AMOUNT: envMoney('50000.00'),
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

/**
 * The settings the database enforces itself (bank_settings), from this environment: written by
 * the owner at every local start and every deploy (bank_set_setting), so no caller can pass its
 * own threshold.
 *
 * Why a table and not a parameter: the rules run in SECURITY DEFINER functions that anyone
 * holding a database password may call directly; a limit passed in by the caller would be
 * whatever that caller wants. The table is written only by the owner, from the same environment
 * (local: `npm start`; cloud: CDK context → the migrate function's environment) that every
 * function's environment carries, so the API and the database agree on one value.
 */
export const databaseSettingNames = [
  'BANK_STEP_UP_AMOUNT',
  'BANK_DAILY_DEBIT_LIMIT',
  'BANK_APPROVAL_AMOUNT',
] as const;
const databaseSettingsSchema = z.object({
  BANK_STEP_UP_AMOUNT: envMoney('1000.00'),
  BANK_DAILY_DEBIT_LIMIT: envMoney('5000.00'),
  BANK_APPROVAL_AMOUNT: envMoney('50000.00'),
});

export function databaseSettings(
  env: NodeJS.ProcessEnv = process.env,
): ReadonlyArray<readonly [string, bigint]> {
  const parsed = databaseSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid environment: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`);
  }
  return databaseSettingNames.map((name) => [name, parsed.data[name]] as const);
}

export function secretArnFor(role: DbRole): string {
  const c = config();
  const arn = {
    bank_customer: c.BANK_DB_SECRET_ARN_BANK_CUSTOMER,
    bank_teller: c.BANK_DB_SECRET_ARN_BANK_TELLER,
    bank_admin: c.BANK_DB_SECRET_ARN_BANK_ADMIN,
    bank_auth: c.BANK_DB_SECRET_ARN_BANK_AUTH,
  }[role];
  if (!arn) throw new ConfigError(`this function has no secret for database role ${role}`);
  return arn;
}

export function clusterArn(): string {
  const arn = config().BANK_DB_CLUSTER_ARN;
  if (!arn) throw new ConfigError('BANK_DB_CLUSTER_ARN is not set');
  return arn;
}
