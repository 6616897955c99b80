import { sealerEnvSchema } from '../shared/audit/sealer';
import { envInt, envIntRanges, envSchema } from '../shared/config';
import { passwordSchema, usernameSchema } from '../shared/schemas';
import * as z from '../shared/zod';

/**
 * Every setting `npm start` reads, read once and checked before anything starts: a bad value
 * must stop the start in one line that names the variable and what it allows, not surface later
 * as a 500 from the first handler that reads it (the handlers read the same variables, with the
 * same schema, from shared/config.ts).
 */
export const logLevels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export const logFormats = ['json', 'pretty'] as const;

const localSchema = z.object({
  PORT: envInt(0, 65_535, 3000),
  HOST: z._default(z.string().check(z.minLength(1)), '127.0.0.1'),
  BANK_DATA_DIR: z._default(z.string().check(z.minLength(1)), '.data'),
  BANK_ADMIN_USERNAME: z._default(usernameSchema, 'admin'),
  BANK_ADMIN_PASSWORD: z.optional(passwordSchema),
  BANK_LOG_FORMAT: z.optional(z.enum(logFormats)),
  BANK_AUDIT_SEAL_INTERVAL_S: envInt(1, 86_400, 10),
  POWERTOOLS_LOG_LEVEL: z.optional(z.enum(logLevels)),
});

const moneyText = 'a decimal money string like "1000.00", above 0 and at most 1000000000.00';
const allowedText: Readonly<Record<string, string>> = {
  HOST: 'a host name or address',
  BANK_DATA_DIR: 'a directory path',
  BANK_ADMIN_USERNAME: '3..32 of a-z 0-9 . _ -',
  BANK_ADMIN_PASSWORD: '10..128 characters',
  BANK_LOG_FORMAT: logFormats.join(' or '),
  POWERTOOLS_LOG_LEVEL: `one of ${logLevels.join(', ')}`,
  BANK_DATA_API_ENDPOINT: 'a URL',
  BANK_JWT_SECRET: 'at least 32 characters',
  BANK_STEP_UP_AMOUNT: moneyText,
  BANK_DAILY_DEBIT_LIMIT: moneyText,
  BANK_APPROVAL_AMOUNT: moneyText,
};

export type LocalSettings = z.infer<typeof localSchema> &
  z.infer<typeof envSchema> &
  z.infer<typeof sealerEnvSchema>;

export type SettingsResult =
  | { readonly ok: true; readonly settings: LocalSettings }
  | { readonly ok: false; readonly message: string };

const schemas = [localSchema, envSchema, sealerEnvSchema] as const;

function allowed(key: string, fallback: string): string {
  for (const schema of schemas) {
    const field: unknown = (schema.shape as Record<string, unknown>)[key];
    const range = typeof field === 'object' && field !== null ? envIntRanges.get(field) : undefined;
    if (range) return `an integer from ${range.min} to ${range.max}`;
  }
  return allowedText[key] ?? fallback;
}

/** Reads and checks the environment; on failure, one line naming each bad variable. */
export function readSettings(env: NodeJS.ProcessEnv): SettingsResult {
  // An empty variable is an unset one: `PORT= npm start` means "the default", as in a shell script.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const schema of schemas) {
    const result = schema.safeParse(given);
    if (result.success) Object.assign(parsed, result.data);
    else {
      for (const issue of result.error.issues) {
        const key = String(issue.path[0] ?? '?');
        const value = given[key];
        const shown =
          key === 'BANK_ADMIN_PASSWORD' || key === 'BANK_JWT_SECRET' ? '(hidden)' : JSON.stringify(value);
        problems.push(`${key}=${shown} is not allowed: use ${allowed(key, issue.message)}`);
      }
    }
  }
  if (problems.length > 0) return { ok: false, message: [...new Set(problems)].join('; ') };
  return { ok: true, settings: parsed as LocalSettings };
}
