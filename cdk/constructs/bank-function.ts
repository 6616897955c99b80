import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { BuildOptions, Format } from 'esbuild';
import { acknowledge } from '../nag';
import { ManagedPolicyRole } from './managed-policy-role';

/** Repository root: cdk/constructs/ is two levels down. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const functionsDir = path.join(repoRoot, 'functions');
export const migrationsDir = path.join(repoRoot, 'migrations');

/** Where the migrate function finds the SQL files inside its bundle. */
export const bundledMigrationsDir = '/var/task/migrations';

/** Largest minified bundle (index.mjs, source map excluded) a function may ship. */
export const bundleBudgetBytes = 400_000;

/**
 * The environment contract the handlers validate (zod) once at cold start. Only names and ARNs
 * travel here, never secret values: handlers fetch secrets through Secrets Manager / the Data API.
 */
export const bankEnvKeys = [
  'BANK_DB_CLUSTER_ARN',
  'BANK_DB_NAME',
  'BANK_DB_MASTER_SECRET_ARN',
  'BANK_DB_SECRET_ARN_BANK_CUSTOMER',
  'BANK_DB_SECRET_ARN_BANK_TELLER',
  'BANK_DB_SECRET_ARN_BANK_ADMIN',
  'BANK_DB_SECRET_ARN_BANK_AUTH',
  'BANK_DB_SECRET_ARN_BANK_AUDITOR',
  'BANK_JWT_SECRET_ARN',
  'BANK_JWT_ISSUER',
  'BANK_JWT_AUDIENCE',
  'BANK_BCRYPT_COST',
  'BANK_MIGRATIONS_DIR',
  'BANK_LOG_BUCKET',
  'BANK_API_ID',
  'BANK_AUDIT_TRAFFIC_LOOKBACK_MIN',
  'BANK_STEP_UP_AMOUNT',
  'BANK_DAILY_DEBIT_LIMIT',
  'BANK_APPROVAL_AMOUNT',
  'BANK_DB_ROTATION_PROBE_SECRET_ARN',
] as const;
export type BankEnvKey = (typeof bankEnvKeys)[number];
export type BankEnvironment = Partial<Record<BankEnvKey, string>>;

/**
 * Set on every function by this construct. No `NODE_OPTIONS=--enable-source-maps`: with it, Node
 * reads and parses the ~600 KB source map while importing the bundle, 20–25 ms of every cold
 * start (measured in bench/), and maps every stack it formats. The map still ships beside
 * index.mjs, so a stack trace from the logs can be decoded offline; for a debugging session an
 * operator can set the flag on one function.
 */
export const baseEnvironment = {
  POWERTOOLS_SERVICE_NAME: 'bank',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  // The bank's own figures (shared/metrics.ts) go to CloudWatch as EMF under this namespace.
  POWERTOOLS_METRICS_NAMESPACE: 'Bank',
} as const;

/**
 * middy 6 is ESM-only, so the bundles are ESM (`index.mjs`). Bundled CommonJS dependencies that
 * call `require` get one from this banner (the pattern AWS documents for ESM bundles).
 */
export const esmRequireBanner =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * SDK packages each bundle leaves to the SDK v3 that the Node.js 24 runtime ships, everything else
 * of the SDK (client-rds-data, client-secrets-manager and their @smithy core) is bundled:
 * - The credential providers a Lambda never reaches. Lambda puts the function's credentials in
 *   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, so the default chain stops at
 *   its first, bundled link (credential-provider-env); these load from the runtime only if that
 *   ever changed. Bundled they would add ~90 KB that never runs.
 * - client-s3 and client-cloudwatch, used only by the scheduled audit sealer: client-s3 alone is
 *   larger than the whole budget.
 */
export const sdkExternalModules = [
  '@aws-sdk/client-s3',
  '@aws-sdk/client-cloudwatch',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
] as const;

/**
 * The one set of esbuild options. NodejsFunction gets it as `bundling`; the bundle test feeds the
 * same object through `esbuildOptionsFor` to esbuild's JS API to measure each function.
 *
 * The Data API client is bundled, not taken from the runtime: a cold start then reads one file
 * instead of resolving and compiling ~60 SDK files (about 20 ms less per cold start, measured in
 * bench/), and the SDK that runs in Lambda is the one package-lock.json pins and the tests ran.
 */
export const bundling = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  banner: esmRequireBanner,
  externalModules: [...sdkExternalModules],
  logLevel: LogLevel.WARNING,
} satisfies BundlingOptions;

const esbuildFormat: Record<OutputFormat, Format> = { [OutputFormat.ESM]: 'esm', [OutputFormat.CJS]: 'cjs' };
const esbuildSourcemap: Record<SourceMapMode, BuildOptions['sourcemap']> = {
  [SourceMapMode.DEFAULT]: 'linked',
  [SourceMapMode.EXTERNAL]: 'external',
  [SourceMapMode.INLINE]: 'inline',
  [SourceMapMode.BOTH]: 'both',
};

/** esbuild JS API options equivalent to the CLI flags NodejsFunction derives from `bundling`. */
export function esbuildOptionsFor(entryFile: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entryFile],
    outfile,
    bundle: true,
    platform: 'node',
    format: esbuildFormat[bundling.format],
    target: bundling.target,
    mainFields: bundling.mainFields,
    minify: bundling.minify,
    sourcemap: esbuildSourcemap[bundling.sourceMapMode],
    sourcesContent: bundling.sourcesContent,
    banner: { js: bundling.banner },
    external: bundling.externalModules,
    logLevel: bundling.logLevel,
  };
}

/** `functions/<entry>.ts`, or a loud error naming the manifest entry that has no handler file. */
export function entryFileOf(entry: string): string {
  const file = path.join(functionsDir, `${entry}.ts`);
  if (!existsSync(file)) {
    throw new Error(
      `functions/${entry}.ts does not exist, but the function manifest (functions/routes.ts) names it`,
    );
  }
  return file;
}

export interface BankFunctionProps {
  /** Handler module under functions/, without extension (the manifest's `entry`). */
  readonly entry: string;
  readonly description: string;
  /** Contract variables (ARNs and plain settings only). */
  readonly environment: BankEnvironment;
  readonly logRetention: logs.RetentionDays;
  /** The bank's key: encrypts the function's log group. */
  readonly key: kms.IKey;
  /** @default 10 seconds (API Gateway HTTP APIs give up after 30) */
  readonly timeout?: Duration;
  /** @default 1024 MB (bcrypt is CPU-bound; Lambda CPU scales with memory) */
  readonly memorySize?: number;
  /** Copy the repository's migrations/ into the bundle and point BANK_MIGRATIONS_DIR at it. */
  readonly bundleMigrations?: boolean;
  /**
   * How AWS invokes it. `sync` (API Gateway, the deploy trigger): the caller receives the error,
   * so there is nothing for a dead-letter queue to keep. `async` (EventBridge, Secrets Manager):
   * give `onFailure`, where Lambda sends each event it gave up on with the error.
   */
  /** Why this function's role has more `Resource: *` statements than X-Ray's, if it has. */
  readonly wildcardNote?: string;
  readonly invocation:
    | { readonly kind: 'sync'; readonly by: string }
    | { readonly kind: 'async'; readonly onFailure: lambda.IDestination };
}

/**
 * A function's execution role: a ManagedPolicyRole, so its statements sit in one customer-managed
 * policy. The log statement in BankFunction replaces AWSLambdaBasicExecutionRole, whose
 * `logs:CreateLogGroup`/`CreateLogStream`/`PutLogEvents` on every log group of the account is
 * wider than a function that writes to its own log group needs.
 */
export class FunctionRole extends ManagedPolicyRole {
  constructor(scope: Construct, id: string, description: string) {
    super(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
  }
}

/**
 * One Lambda function with the project's defaults: Node.js 24 (the latest Lambda runtime; the
 * whole test suite passes on Node 24 as on 20 and 22) on arm64, esbuild ESM bundle with
 * source maps and minification, its own KMS-encrypted log group with retention and a role that
 * may write only to it, active X-Ray tracing, a timeout, and an environment restricted to the
 * contract above.
 */
export class BankFunction extends NodejsFunction {
  readonly functionRole: FunctionRole;

  constructor(scope: Construct, id: string, props: BankFunctionProps) {
    const environment: Record<string, string> = { ...validateEnvironment(props.entry, props.environment) };
    if (props.bundleMigrations) environment.BANK_MIGRATIONS_DIR = bundledMigrationsDir;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      encryptionKey: props.key,
    });
    const role = new FunctionRole(scope, `${id}Role`, `Execution role of ${props.entry}`);
    // The group exists before the function (CDK creates it), so no logs:CreateLogGroup; its ARN
    // (`...:log-group:NAME:*`) covers its streams and nothing else.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    super(scope, id, {
      role,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.invocation.kind === 'async'
        ? { onFailure: props.invocation.onFailure, retryAttempts: 2 }
        : {}),
      entry: entryFileOf(props.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      logGroup,
      environment: { ...baseEnvironment, ...environment },
      bundling: {
        ...bundling,
        commandHooks: props.bundleMigrations ? copyMigrationsHooks : undefined,
      },
    });
    this.functionRole = role;
    acknowledgeFunctionFindings(this, role, props);
  }
}

/** The findings every bank function shares, acknowledged on it (and its role) with the reason. */
function acknowledgeFunctionFindings(fn: BankFunction, role: FunctionRole, props: BankFunctionProps): void {
  const { invocation } = props;
  acknowledge(
    fn,
    'PCI.DSS.321-LambdaInsideVPC',
    'Deliberately outside a VPC: the functions reach the database only through the RDS Data API (HTTPS, IAM-authenticated and authorized per cluster and per secret), never over the network; the cluster sits in isolated subnets with no route in or out. A VPC would add ENIs, NAT or endpoints (about $7 per endpoint per AZ and month) and cold-start latency, and protect no path that exists.',
  );
  acknowledge(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    `xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) have Resource *: X-Ray supports no resource-level permissions for them.${props.wildcardNote ? ` ${props.wildcardNote}` : ''} Every other statement names its resource.`,
  );
  acknowledge(
    fn,
    'Serverless-LambdaDLQ',
    invocation.kind === 'sync'
      ? `Invoked synchronously (${invocation.by}): the caller receives every error, so no event is ever left for a dead-letter queue (Lambda uses one only for asynchronous invocations).`
      : 'Asynchronous, with an on-failure destination instead of a DeadLetterConfig: Lambda sends each event it gave up on (after 2 retries) to the bank dead-letter queue with the error and the request, which a DLQ record lacks; an alarm watches that queue.',
  );
}

/** Copies migrations/ next to index.mjs (Node, not `cp`, so it also works on Windows). */
const copyMigrationsHooks = {
  beforeBundling: (): string[] => [],
  beforeInstall: (): string[] => [],
  afterBundling: (inputDir: string, outputDir: string): string[] => [
    `node -e "require('node:fs').cpSync(process.argv[1], process.argv[2], { recursive: true })" ${JSON.stringify(
      path.join(inputDir, 'migrations'),
    )} ${JSON.stringify(path.join(outputDir, 'migrations'))}`,
  ],
};

function validateEnvironment(entry: string, env: BankEnvironment): BankEnvironment {
  const allowed: ReadonlySet<string> = new Set(bankEnvKeys);
  for (const [key, value] of Object.entries(env)) {
    if (!allowed.has(key)) throw new Error(`${entry}: environment variable ${key} is not in the contract`);
    if (typeof value !== 'string' || value.length === 0) throw new Error(`${entry}: ${key} is empty`);
    if (key.endsWith('_ARN') && !Token.isUnresolved(value) && !value.startsWith('arn:')) {
      throw new Error(`${entry}: ${key} must be an ARN, never a secret value`);
    }
  }
  return env;
}
