import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { dbRoles } from '../shared/auth/db-roles';
import { databaseSettings } from '../shared/config';
import { dataApiExecutor } from '../shared/db/data-api-executor';
import { loadMigrationSet, runMigrations } from '../shared/db/migrate';
import { logger } from '../shared/logger';
import * as z from '../shared/zod';

/**
 * Deploy-time migration runner (a CDK trigger runs it after the cluster exists): applies
 * migrations/ (numbered files, then the function files of migrations/functions/) through the Data API as the master user, then sets each application role's
 * password from its own secret, so the passwords exist only in Secrets Manager.
 */
const env = z
  .object({
    AWS_REGION: z.string().check(z.minLength(1)),
    BANK_DB_CLUSTER_ARN: z.string().check(z.startsWith('arn:')),
    BANK_DB_NAME: z.string().check(z.minLength(1)),
    BANK_DB_MASTER_SECRET_ARN: z.string().check(z.startsWith('arn:')),
    BANK_DB_SECRET_ARN_BANK_CUSTOMER: z.string().check(z.startsWith('arn:')),
    BANK_DB_SECRET_ARN_BANK_TELLER: z.string().check(z.startsWith('arn:')),
    BANK_DB_SECRET_ARN_BANK_ADMIN: z.string().check(z.startsWith('arn:')),
    BANK_DB_SECRET_ARN_BANK_AUTH: z.string().check(z.startsWith('arn:')),
    BANK_MIGRATIONS_DIR: z._default(z.string().check(z.minLength(1)), '/var/task/migrations'),
  })
  .parse(process.env);

const secretShape = z.object({ username: z.string(), password: z.string().check(z.minLength(16)) });

export const handler = async (): Promise<{ applied: string[]; alreadyApplied: number }> => {
  const rds = new RDSDataClient({ region: env.AWS_REGION });
  const target = {
    client: rds,
    resourceArn: env.BANK_DB_CLUSTER_ARN,
    secretArn: env.BANK_DB_MASTER_SECRET_ARN,
    database: env.BANK_DB_NAME,
  };
  const report = await runMigrations(
    dataApiExecutor(target),
    await loadMigrationSet(env.BANK_MIGRATIONS_DIR),
  );
  const sm = new SecretsManagerClient({ region: env.AWS_REGION });
  const arns: Record<(typeof dbRoles)[number], string> = {
    bank_customer: env.BANK_DB_SECRET_ARN_BANK_CUSTOMER,
    bank_teller: env.BANK_DB_SECRET_ARN_BANK_TELLER,
    bank_admin: env.BANK_DB_SECRET_ARN_BANK_ADMIN,
    bank_auth: env.BANK_DB_SECRET_ARN_BANK_AUTH,
  };
  for (const role of dbRoles) {
    const secret = await sm.send(new GetSecretValueCommand({ SecretId: arns[role] }));
    const { username, password } = secretShape.parse(JSON.parse(secret.SecretString ?? '{}'));
    if (username !== role) throw new Error(`secret for ${role} names user ${username}`);
    await rds.send(
      new ExecuteStatementCommand({
        ...target,
        sql: 'SELECT bank_set_role_password(:role, :password)',
        parameters: [
          { name: 'role', value: { stringValue: role } },
          { name: 'password', value: { stringValue: password } },
        ],
      }),
    );
  }
  for (const [name, minor] of databaseSettings()) {
    await rds.send(
      new ExecuteStatementCommand({
        ...target,
        sql: 'SELECT bank_set_setting(:name, CAST(:minor AS bigint))',
        parameters: [
          { name: 'name', value: { stringValue: name } },
          { name: 'minor', value: { stringValue: minor.toString() } },
        ],
      }),
    );
  }
  logger.info('migrations applied', { applied: report.applied, alreadyApplied: report.alreadyApplied });
  return report;
};
