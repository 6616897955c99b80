import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, Node } from 'constructs';
import { AmountError, parseAmountMinor } from '../shared/money';
import { BankAlarms } from './constructs/alarms';
import { BankApi } from './constructs/api';
import { BankKey } from './constructs/bank-key';
import { ConsoleDistribution } from './constructs/console';
import { BankDatabase, databaseName } from './constructs/database';
import { BankFunctions } from './constructs/functions';
import { LogBucket } from './constructs/log-bucket';
import { MigrationTrigger } from './constructs/migration-trigger';

/** Settings a deployer may change with `-c key=value` (or the `context` block of cdk.json). */
export interface BankSettings {
  readonly stackName: string;
  /** CORS origin of the web console; unset: no CORS. */
  readonly webOrigin?: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly apiRateLimit: number;
  readonly apiBurstLimit: number;
  readonly dbMinCapacity: number;
  readonly dbMaxCapacity: number;
  /** Object Lock default retention (compliance mode) of the log bucket, in days. */
  readonly logBucketRetentionDays: number;
  /** CloudWatch Logs retention of function and access logs, in days. */
  readonly logRetentionDays: number;
  readonly auditSealIntervalMinutes: number;
  readonly api5xxAlarmPercent: number;
  readonly alarmEmail?: string;
  /** API.md v1.1 settings, decimal money strings (environment BANK_STEP_UP_AMOUNT, ...). */
  readonly stepUpAmount: string;
  readonly dailyDebitLimit: string;
  readonly approvalAmount: string;
  /** WAF web ACL (scope CLOUDFRONT, us-east-1) for the console's CloudFront distribution. */
  readonly consoleWebAclArn?: string;
  /** Custom domain of the console and API origin, and its ACM certificate ARN (us-east-1). */
  readonly consoleDomainName?: string;
  readonly consoleCertificateArn?: string;
}

export const defaultSettings: BankSettings = {
  stackName: 'SecureBank',
  jwtIssuer: 'https://bank.example/',
  jwtAudience: 'bank-api',
  apiRateLimit: 100,
  apiBurstLimit: 200,
  dbMinCapacity: 0,
  dbMaxCapacity: 4,
  logBucketRetentionDays: 7 * 365,
  logRetentionDays: 365,
  auditSealIntervalMinutes: 1,
  api5xxAlarmPercent: 5,
  stepUpAmount: '1000.00',
  dailyDebitLimit: '5000.00',
  approvalAmount: '50000.00',
};

/** Stack outputs (`cdk.outputs.json` after `npm run deploy`); scripts read them by these keys. */
export const outputKeys = {
  apiUrl: 'ApiUrl',
  dbClusterArn: 'DbClusterArn',
  dbName: 'DbName',
  dbMasterSecretArn: 'DbMasterSecretArn',
  logBucketName: 'LogBucketName',
  dbAuditorSecretArn: 'DbAuditorSecretArn',
  alarmTopicArn: 'AlarmTopicArn',
  consoleUrl: 'ConsoleUrl',
  consoleBucketName: 'ConsoleBucketName',
  consoleDistributionId: 'ConsoleDistributionId',
} as const;

/** Reads and validates the settings from CDK context, falling back to the defaults. */
export function settingsFromContext(node: Node): BankSettings {
  const text = (key: keyof BankSettings): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new Error(`context ${key} must be a string`);
    return String(value);
  };
  const num = (key: keyof BankSettings, fallback: number, min: number, max: number, step = 1): number => {
    const raw = text(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || Math.round(value / step) * step !== value) {
      throw new Error(`context ${key}=${raw} must be a number from ${min} to ${max} in steps of ${step}`);
    }
    return value;
  };
  const amount = (key: 'stepUpAmount' | 'dailyDebitLimit' | 'approvalAmount'): string => {
    const raw = text(key) ?? defaultSettings[key];
    try {
      parseAmountMinor(raw);
    } catch (error) {
      if (error instanceof AmountError) throw new Error(`context ${key}=${raw}: ${error.message}`);
      throw error;
    }
    return raw;
  };
  const settings: BankSettings = {
    stackName: text('stackName') ?? defaultSettings.stackName,
    webOrigin: text('webOrigin'),
    jwtIssuer: text('jwtIssuer') ?? defaultSettings.jwtIssuer,
    jwtAudience: text('jwtAudience') ?? defaultSettings.jwtAudience,
    apiRateLimit: num('apiRateLimit', defaultSettings.apiRateLimit, 1, 10_000),
    apiBurstLimit: num('apiBurstLimit', defaultSettings.apiBurstLimit, 1, 5_000),
    dbMinCapacity: num('dbMinCapacity', defaultSettings.dbMinCapacity, 0, 256, 0.5),
    dbMaxCapacity: num('dbMaxCapacity', defaultSettings.dbMaxCapacity, 1, 256, 0.5),
    logBucketRetentionDays: num('logBucketRetentionDays', defaultSettings.logBucketRetentionDays, 1, 36_500),
    logRetentionDays: num('logRetentionDays', defaultSettings.logRetentionDays, 1, 3653),
    auditSealIntervalMinutes: num(
      'auditSealIntervalMinutes',
      defaultSettings.auditSealIntervalMinutes,
      1,
      1440,
    ),
    api5xxAlarmPercent: num('api5xxAlarmPercent', defaultSettings.api5xxAlarmPercent, 0.1, 100, 0.1),
    alarmEmail: text('alarmEmail'),
    stepUpAmount: amount('stepUpAmount'),
    dailyDebitLimit: amount('dailyDebitLimit'),
    approvalAmount: amount('approvalAmount'),
    consoleWebAclArn: text('consoleWebAclArn'),
    consoleDomainName: text('consoleDomainName'),
    consoleCertificateArn: text('consoleCertificateArn'),
  };
  if ((settings.consoleDomainName === undefined) !== (settings.consoleCertificateArn === undefined)) {
    throw new Error('context consoleDomainName and consoleCertificateArn go together');
  }
  if (settings.dbMinCapacity > settings.dbMaxCapacity) {
    throw new Error('context dbMinCapacity must not exceed dbMaxCapacity');
  }
  return settings;
}

export interface BankStackProps extends StackProps {
  readonly settings: BankSettings;
}

/**
 * The whole bank: Aurora (Data API) with one secret per database role, one Lambda per route and
 * the background functions, the HTTP API, the migration trigger, the Object Lock log bucket and
 * the alarms.
 */
export class BankStack extends Stack {
  readonly database: BankDatabase;
  readonly functions: BankFunctions;
  readonly api: BankApi;
  readonly logBucket: LogBucket;
  readonly jwtSecret: secretsmanager.Secret;
  readonly alarms: BankAlarms;
  readonly key: BankKey;
  readonly console: ConsoleDistribution;

  constructor(scope: Construct, id: string, props: BankStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const logRetention = retentionDays(settings.logRetentionDays);

    this.key = new BankKey(this, 'DataKey');
    this.database = new BankDatabase(this, 'Database', {
      minCapacity: settings.dbMinCapacity,
      maxCapacity: settings.dbMaxCapacity,
      key: this.key.key,
      logRetention,
    });
    this.logBucket = new LogBucket(this, 'LogBucket', {
      retentionDays: settings.logBucketRetentionDays,
      key: this.key.key,
    });

    this.jwtSecret = new secretsmanager.Secret(this, 'JwtSigningKey', {
      description: 'HS256 signing key of the bank API access tokens',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      encryptionKey: this.key.key,
    });

    this.functions = new BankFunctions(this, 'Functions', {
      key: this.key,
      database: this.database,
      logBucket: this.logBucket,
      jwt: { secret: this.jwtSecret, issuer: settings.jwtIssuer, audience: settings.jwtAudience },
      logRetention,
      auditSealInterval: Duration.minutes(settings.auditSealIntervalMinutes),
      moneySettings: {
        BANK_STEP_UP_AMOUNT: settings.stepUpAmount,
        BANK_DAILY_DEBIT_LIMIT: settings.dailyDebitLimit,
        BANK_APPROVAL_AMOUNT: settings.approvalAmount,
      },
    });

    this.api = new BankApi(this, 'Api', {
      routes: this.functions.routeFunctions,
      rateLimit: settings.apiRateLimit,
      burstLimit: settings.apiBurstLimit,
      webOrigin: settings.webOrigin,
      logRetention,
      key: this.key.key,
    });

    new MigrationTrigger(this, 'Migrations', {
      handler: this.functions.migrate,
      after: [this.database],
      before: [this.api.stage],
    });

    // The sealer's traffic check reads this API's request count.
    this.functions.auditSeal.addEnvironment('BANK_API_ID', this.api.httpApi.apiId);

    this.alarms = new BankAlarms(this, 'Alarms', {
      httpApi: this.api.httpApi,
      functions: this.functions.all,
      deadLetters: this.functions.deadLetters,
      key: this.key.key,
      serverErrorRatePercent: settings.api5xxAlarmPercent,
      email: settings.alarmEmail,
    });

    // The console and the API on one origin: CloudFront in front of the HTTP API and the console bucket.
    this.console = new ConsoleDistribution(this, 'Console', {
      httpApi: this.api.httpApi,
      ...(settings.consoleWebAclArn ? { webAclArn: settings.consoleWebAclArn } : {}),
      ...(settings.consoleDomainName && settings.consoleCertificateArn
        ? { domain: { name: settings.consoleDomainName, certificateArn: settings.consoleCertificateArn } }
        : {}),
    });

    new CfnOutput(this, outputKeys.apiUrl, { value: this.api.url, description: 'Base URL of the bank API' });
    new CfnOutput(this, outputKeys.dbClusterArn, { value: this.database.cluster.clusterArn });
    new CfnOutput(this, outputKeys.dbName, { value: databaseName });
    new CfnOutput(this, outputKeys.dbMasterSecretArn, {
      value: this.database.masterSecret.secretArn,
      description: 'Secret of the schema owner (npm run admin:create calls the owner-only bank_create_user)',
    });
    new CfnOutput(this, outputKeys.logBucketName, { value: this.logBucket.bucket.bucketName });
    new CfnOutput(this, outputKeys.dbAuditorSecretArn, {
      value: this.database.auditorSecret.secretArn,
      description: 'Secret of the read-only bank_auditor role (npm run audit:verify -- --stack)',
    });
    new CfnOutput(this, outputKeys.alarmTopicArn, { value: this.alarms.topic.topicArn });
    new CfnOutput(this, outputKeys.consoleUrl, {
      value: `${this.console.url}/console/`,
      description: 'The web console (the API answers on the same origin)',
    });
    new CfnOutput(this, outputKeys.consoleBucketName, { value: this.console.bucket.bucketName });
    new CfnOutput(this, outputKeys.consoleDistributionId, {
      value: this.console.distribution.distributionId,
    });
  }
}

/** CloudWatch Logs accepts only certain retention periods: the nearest one not shorter. */
function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays)
    .filter((v): v is logs.RetentionDays => typeof v === 'number' && v > 0)
    .sort((a, b) => a - b);
  const match = allowed.find((v) => v >= days);
  if (match === undefined) throw new Error(`log retention of ${days} days is longer than CloudWatch allows`);
  return match;
}
