import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { backgroundFunctions, type RouteDef, type RouteName, routes } from '../../functions/routes';
import type { DbRole } from '../../shared/auth/db-roles';
import { dbRolesFor } from '../../shared/auth/policy';
import { acknowledge } from '../nag';
import { type BankEnvironment, type BankEnvKey, BankFunction } from './bank-function';
import type { BankKey } from './bank-key';
import { type BankDatabase, databaseName, grantSecretValues, pascalCase } from './database';
import type { LogBucket } from './log-bucket';

/**
 * Rotation intervals. Database role passwords: every 30 days (each rotation wakes a paused
 * database once). JWT signing key: every 30 days; a function verifies tokens signed with the
 * previous key until they expire (15 minutes plus the 5-minute key refresh, jwt-keys.ts).
 */
export const dbSecretRotationDays = 30;
export const jwtKeyRotationDays = 30;

const rotationWildcardNote =
  'So has secretsmanager:GetRandomPassword, which CDK grants every rotation function and which acts on no resource.';

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
  readonly key: BankKey;
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
  readonly rotateDbSecret: BankFunction;
  readonly rotateJwtKey: BankFunction;
  /** Where Lambda and EventBridge put the asynchronous events they gave up on (alarmed). */
  readonly deadLetters: sqs.Queue;
  /** Every function of the stack, for alarms. */
  readonly all: readonly BankFunction[];

  constructor(scope: Construct, id: string, props: BankFunctionsProps) {
    super(scope, id);
    const { database, jwt, logRetention, key } = props;
    // SSE-SQS, not the bank's key: the queue holds only schedule and rotation events (ids and
    // ARNs, no customer data), and EventBridge and Lambda write to it without a key grant.
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.deadLetters,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue (of the sealer schedule and of the asynchronous functions); a dead-letter queue of its own would have nothing to receive.',
    );
    acknowledge(
      this.deadLetters,
      'Serverless-SQSRedrivePolicy',
      'This queue is the dead-letter queue; nothing consumes it automatically, an operator reads it when its alarm fires.',
    );
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
        key: key.key,
        invocation: { kind: 'sync', by: 'API Gateway' },
      });
      if (secrets.length > 0) database.grantDataApi(fn, secrets);
      if (tokens) grantSecretValues(fn, [jwt.secret]);
      if (secrets.length > 0 || tokens) key.grantSecretDecrypt(fn);
      return { route, fn };
    });

    let migrate: BankFunction | undefined;
    let auditSeal: BankFunction | undefined;
    let rotateDbSecret: BankFunction | undefined;
    let rotateJwtKey: BankFunction | undefined;
    for (const background of backgroundFunctions) {
      switch (background.name) {
        case 'migrate':
          migrate = this.migrateFunction(background.entry, props);
          break;
        case 'audit.seal':
          auditSeal = this.auditSealFunction(background.entry, props);
          break;
        case 'rotate.dbSecret':
          rotateDbSecret = this.rotateDbSecretFunction(background.entry, props);
          break;
        case 'rotate.jwtKey':
          rotateJwtKey = this.rotateJwtKeyFunction(background.entry, props);
          break;
        default:
          throw new Error(
            `background function ${JSON.stringify(background)} has no wiring in cdk/constructs/functions.ts`,
          );
      }
    }
    if (!migrate || !auditSeal || !rotateDbSecret || !rotateJwtKey)
      throw new Error(
        'functions/routes.ts must declare the migrate, audit.seal, rotate.dbSecret and rotate.jwtKey functions',
      );
    this.migrate = migrate;
    this.auditSeal = auditSeal;
    this.rotateDbSecret = rotateDbSecret;
    this.rotateJwtKey = rotateJwtKey;
    this.all = [...this.routeFunctions.map((r) => r.fn), migrate, auditSeal, rotateDbSecret, rotateJwtKey];
  }

  /** Where an asynchronous function's failed events go. */
  private get onFailure(): destinations.SqsDestination {
    return new destinations.SqsDestination(this.deadLetters);
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
      key: props.key.key,
      invocation: { kind: 'sync', by: 'the deploy-time trigger, request-response' },
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
    props.key.grantSecretDecrypt(fn);
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
      key: props.key.key,
      invocation: { kind: 'async', onFailure: this.onFailure },
      timeout: Duration.minutes(2),
      memorySize: 512,
      wildcardNote:
        'cloudwatch:GetMetricData (the traffic check that lets an idle Aurora sleep) has no resource-level permissions either; it reads metrics only.',
    });
    database.grantDataApi(fn, [database.roleSecrets.bank_admin]);
    props.key.grantSecretDecrypt(fn);
    logBucket.grantSealWriter(fn.functionRole);
    // The traffic check before any database call; GetMetricData has no resource-level scope.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    new events.Rule(this, 'AuditSealSchedule', {
      description: 'Runs the audit sealer',
      schedule: events.Schedule.rate(props.auditSealInterval),
      // An event EventBridge could not deliver (throttled, function missing) lands in the DLQ.
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, deadLetterQueue: this.deadLetters })],
    });
    return fn;
  }

  /**
   * Rotates every database role secret (one function for the list of roles in
   * shared/auth/db-roles.ts) over the Data API as the schema owner, proving each new password
   * through a probe secret before AWSCURRENT moves.
   */
  private rotateDbSecretFunction(entry: string, props: BankFunctionsProps): BankFunction {
    const { database, key } = props;
    const probe = new secretsmanager.Secret(this, 'RotationProbe', {
      description:
        'Scratch secret of the database password rotation: holds a pending role login for the seconds its test takes, then a value that opens nothing',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ cleared: true }),
        generateStringKey: 'nonce',
      },
      encryptionKey: key.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      probe,
      'AwsSolutions-SMG4',
      'Not a credential at rest: the rotation function writes a pending role login into it only for the seconds its test takes and then overwrites it with a value that opens nothing; the credential itself rotates in its own secret.',
    );
    const fn = new BankFunction(this, 'RotateDbSecret', {
      entry,
      description:
        'Secrets Manager rotation of the database role secrets, over the Data API as the schema owner',
      environment: {
        BANK_DB_CLUSTER_ARN: database.cluster.clusterArn,
        BANK_DB_NAME: databaseName,
        BANK_DB_MASTER_SECRET_ARN: database.masterSecret.secretArn,
        BANK_DB_ROTATION_PROBE_SECRET_ARN: probe.secretArn,
      },
      logRetention: props.logRetention,
      key: key.key,
      invocation: { kind: 'async', onFailure: this.onFailure },
      wildcardNote: rotationWildcardNote,
      timeout: Duration.minutes(2),
      memorySize: 256,
    });
    database.grantDataApi(fn, [database.masterSecret, probe]);
    key.grantSecretDecrypt(fn);
    grantSecretWrite(fn, [probe], key);
    // addRotationSchedule grants the function what rotating the secret takes (read, stage and
    // write its versions; the key through the secret) and lets Secrets Manager invoke it.
    for (const [role, secret] of Object.entries(database.roleSecrets)) {
      secret.addRotationSchedule(`${pascalCase(role)}Rotation`, {
        rotationLambda: fn,
        automaticallyAfter: Duration.days(dbSecretRotationDays),
        rotateImmediatelyOnUpdate: false,
      });
    }
    return fn;
  }

  /** Rotates the JWT signing key; the functions accept the previous key until its tokens expire. */
  private rotateJwtKeyFunction(entry: string, props: BankFunctionsProps): BankFunction {
    const fn = new BankFunction(this, 'RotateJwtKey', {
      entry,
      description: 'Secrets Manager rotation of the JWT signing key',
      environment: {},
      logRetention: props.logRetention,
      key: props.key.key,
      invocation: { kind: 'async', onFailure: this.onFailure },
      wildcardNote: rotationWildcardNote,
      timeout: Duration.seconds(30),
      memorySize: 256,
    });
    props.jwt.secret.addRotationSchedule('Rotation', {
      rotationLambda: fn,
      automaticallyAfter: Duration.days(jwtKeyRotationDays),
      rotateImmediatelyOnUpdate: false,
    });
    return fn;
  }
}

/** PutSecretValue on `secrets`, and the key to encrypt them through Secrets Manager. */
function grantSecretWrite(fn: BankFunction, secrets: readonly secretsmanager.ISecret[], key: BankKey): void {
  if (secrets.length > 0) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:PutSecretValue'],
        resources: secrets.map((s) => s.secretArn),
      }),
    );
  }
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [key.key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(fn).region}.amazonaws.com` },
      },
    }),
  );
}
