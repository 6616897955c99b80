import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { backgroundFunctions, type RouteDef, type RouteName, routes } from '../../functions/routes';
import type { DbRole } from '../../shared/auth/db-roles';
import { dbRolesFor } from '../../shared/auth/policy';
import { type BankEnvironment, type BankEnvKey, BankFunction } from './bank-function';
import { type BankDatabase, databaseName, grantSecretValues, pascalCase } from './database';
import type { LogBucket } from './log-bucket';

/** The environment variable that carries each role's secret ARN. */
export const secretEnvKey: Readonly<Record<DbRole, BankEnvKey>> = {
  bank_customer: 'BANK_DB_SECRET_ARN_BANK_CUSTOMER',
  bank_teller: 'BANK_DB_SECRET_ARN_BANK_TELLER',
  bank_admin: 'BANK_DB_SECRET_ARN_BANK_ADMIN',
  bank_auth: 'BANK_DB_SECRET_ARN_BANK_AUTH',
};

/** Routes that neither touch the database nor verify tokens. */
const tokenlessRoutes: ReadonlySet<RouteName> = new Set<RouteName>(['health', 'openapi']);

export const bcryptCost = '10';

export interface JwtSettings {
  /** HS256 signing key (a generated secret; its value never leaves Secrets Manager but at run time). */
  readonly secret: secretsmanager.ISecret;
  readonly issuer: string;
  readonly audience: string;
}

export interface BankFunctionsProps {
  readonly database: BankDatabase;
  readonly logBucket: LogBucket;
  readonly jwt: JwtSettings;
  readonly logRetention: logs.RetentionDays;
  /**
   * How often the audit sealer runs. A run touches the database only when CloudWatch shows API
   * requests within the last few minutes, so an idle database stays paused.
   */
  readonly auditSealInterval: Duration;
  /**
   * API.md v1.1 settings (decimal money strings). Every route function validates them at cold
   * start; the migrate function writes them to bank_settings, where the SQL functions read them.
   */
  readonly moneySettings: Readonly<
    Record<'BANK_STEP_UP_AMOUNT' | 'BANK_DAILY_DEBIT_LIMIT' | 'BANK_APPROVAL_AMOUNT', string>
  >;
}

export interface RouteFunction {
  readonly route: RouteDef & { readonly name: RouteName };
  readonly fn: BankFunction;
}

/**
 * One Lambda function per manifest entry (functions/routes.ts), each granted exactly what it
 * uses: the Data API on this cluster and the secrets of the database roles its route may run as
 * (shared/auth/policy.ts `dbRolesFor`), the JWT key when it handles tokens.
 */
export class BankFunctions extends Construct {
  readonly routeFunctions: readonly RouteFunction[];
  readonly migrate: BankFunction;
  readonly auditSeal: BankFunction;
  /** Every function of the stack, for alarms. */
  readonly all: readonly BankFunction[];

  constructor(scope: Construct, id: string, props: BankFunctionsProps) {
    super(scope, id);
    const { database, jwt, logRetention } = props;
    const dbEnv = { BANK_DB_CLUSTER_ARN: database.cluster.clusterArn, BANK_DB_NAME: databaseName };

    this.routeFunctions = routes.map((route) => {
      const roles = dbRolesFor(route.name);
      const secrets = roles.map((role) => database.roleSecrets[role]);
      const tokens = !tokenlessRoutes.has(route.name);
      const environment: BankEnvironment = {
        ...dbEnv,
        BANK_JWT_ISSUER: jwt.issuer,
        BANK_JWT_AUDIENCE: jwt.audience,
        BANK_BCRYPT_COST: bcryptCost,
        ...props.moneySettings,
        ...(tokens ? { BANK_JWT_SECRET_ARN: jwt.secret.secretArn } : {}),
        ...Object.fromEntries(
          roles.map((role) => [secretEnvKey[role], database.roleSecrets[role].secretArn]),
        ),
      };
      const fn = new BankFunction(this, pascalCase(route.name), {
        entry: route.entry,
        description: `${route.method} ${route.path} (${route.name})`,
        environment,
        logRetention,
      });
      if (secrets.length > 0) database.grantDataApi(fn, secrets);
      if (tokens) grantSecretValues(fn, [jwt.secret]);
      return { route, fn };
    });

    let migrate: BankFunction | undefined;
    let auditSeal: BankFunction | undefined;
    for (const background of backgroundFunctions) {
      switch (background.name) {
        case 'migrate':
          migrate = this.migrateFunction(background.entry, props);
          break;
        case 'audit.seal':
          auditSeal = this.auditSealFunction(background.entry, props);
          break;
        default:
          throw new Error(
            `background function ${JSON.stringify(background)} has no wiring in cdk/constructs/functions.ts`,
          );
      }
    }
    if (!migrate || !auditSeal)
      throw new Error('functions/routes.ts must declare the migrate and audit.seal functions');
    this.migrate = migrate;
    this.auditSeal = auditSeal;
    this.all = [...this.routeFunctions.map((r) => r.fn), migrate, auditSeal];
  }

  /** Deploy-time migrations: runs as the master user and sets each role's password from its secret. */
  private migrateFunction(entry: string, props: BankFunctionsProps): BankFunction {
    const { database } = props;
    const environment: BankEnvironment = {
      BANK_DB_CLUSTER_ARN: database.cluster.clusterArn,
      BANK_DB_NAME: databaseName,
      BANK_DB_MASTER_SECRET_ARN: database.masterSecret.secretArn,
      BANK_DB_SECRET_ARN_BANK_CUSTOMER: database.roleSecrets.bank_customer.secretArn,
      BANK_DB_SECRET_ARN_BANK_TELLER: database.roleSecrets.bank_teller.secretArn,
      BANK_DB_SECRET_ARN_BANK_ADMIN: database.roleSecrets.bank_admin.secretArn,
      BANK_DB_SECRET_ARN_BANK_AUTH: database.roleSecrets.bank_auth.secretArn,
      BANK_DB_SECRET_ARN_BANK_AUDITOR: database.auditorSecret.secretArn,
      ...props.moneySettings,
    };
    const fn = new BankFunction(this, 'Migrate', {
      entry,
      description:
        'Applies migrations/ through the Data API and sets the role passwords (deploy-time trigger)',
      environment,
      logRetention: props.logRetention,
      // A paused cluster takes a few seconds to resume; the whole run stays well under this.
      timeout: Duration.minutes(5),
      memorySize: 512,
      bundleMigrations: true,
    });
    database.grantDataApi(fn, [
      database.masterSecret,
      database.roleSecrets.bank_customer,
      database.roleSecrets.bank_teller,
      database.roleSecrets.bank_admin,
      database.roleSecrets.bank_auth,
      database.auditorSecret,
    ]);
    return fn;
  }

  /**
   * Scheduled: seals new audit events, ledger entries and balances into the hash chain and writes
   * each batch to the log bucket. BANK_API_ID is set by the stack once the API exists.
   */
  private auditSealFunction(entry: string, props: BankFunctionsProps): BankFunction {
    const { database, logBucket } = props;
    const fn = new BankFunction(this, 'AuditSeal', {
      entry,
      description:
        'Seals new audit events, ledger entries and balances into hash-chained batches in the Object Lock log bucket (scheduled)',
      environment: {
        BANK_DB_CLUSTER_ARN: database.cluster.clusterArn,
        BANK_DB_NAME: databaseName,
        BANK_DB_SECRET_ARN_BANK_ADMIN: database.roleSecrets.bank_admin.secretArn,
        BANK_LOG_BUCKET: logBucket.bucket.bucketName,
        // One period plus CloudWatch's publication delay: every request is seen by a later run.
        BANK_AUDIT_TRAFFIC_LOOKBACK_MIN: String(props.auditSealInterval.toMinutes() + 5),
      },
      logRetention: props.logRetention,
      timeout: Duration.minutes(2),
      memorySize: 512,
    });
    database.grantDataApi(fn, [database.roleSecrets.bank_admin]);
    logBucket.grantSealWriter(fn);
    // The traffic check before any database call; GetMetricData has no resource-level scope.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    new events.Rule(this, 'AuditSealSchedule', {
      description: 'Runs the audit sealer',
      schedule: events.Schedule.rate(props.auditSealInterval),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
    });
    return fn;
  }
}
