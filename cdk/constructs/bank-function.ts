import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Token } from 'aws-cdk-lib';
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
} as const;

/**
 * middy 6 is ESM-only, so the bundles are ESM (`index.mjs`). Bundled CommonJS dependencies that
 * call `require` get one from this banner (the pattern AWS documents for ESM bundles).
 */
export const esmRequireBanner =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * SDK packages each bundle leaves to the SDK v3 that the Node.js 22 runtime ships, everything else
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
  target: 'node22',
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
  /** @default 10 seconds (API Gateway HTTP APIs give up after 30) */
  readonly timeout?: Duration;
  /** @default 1024 MB (bcrypt is CPU-bound; Lambda CPU scales with memory) */
  readonly memorySize?: number;
  /** Copy the repository's migrations/ into the bundle and point BANK_MIGRATIONS_DIR at it. */
  readonly bundleMigrations?: boolean;
}

/**
 * One Lambda function with the project's defaults: Node.js 22 on arm64, esbuild ESM bundle with
 * source maps and minification, its own log group with retention, a timeout, and an environment
 * restricted to the contract above.
 */
export class BankFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: BankFunctionProps) {
    const environment: Record<string, string> = { ...validateEnvironment(props.entry, props.environment) };
    if (props.bundleMigrations) environment.BANK_MIGRATIONS_DIR = bundledMigrationsDir;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: props.logRetention });
    super(scope, id, {
      entry: entryFileOf(props.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
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
  }
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
