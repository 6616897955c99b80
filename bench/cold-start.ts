import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build } from 'esbuild';
import { backgroundFunctions, type RouteDef, routes } from '../functions/routes';
import { toApiGatewayEvent } from '../local/gateway';
import { median } from './stats';

const run = promisify(execFile);

/**
 * Scenario 7: per function, the bundle CDK deploys (esbuild, minified, the construct's own
 * options) and a cold start: a fresh `node` process that imports the bundle and serves one
 * request against the running local stack, timed from process start.
 */

export interface ColdStartRow {
  readonly name: string;
  readonly entry: string;
  readonly bundleBytes: number;
  /** Undefined for background functions (no HTTP event to serve). */
  readonly runs?: number;
  readonly bootMs?: number;
  readonly importMs?: number;
  readonly firstRequestMs?: number;
  /** Import of the bundle + first request (the function's own cold start), median of the runs. */
  readonly coldMs?: number;
  /** Process start -> first response (Node's own boot included), median of the runs. */
  readonly totalMs?: number;
  readonly statuses?: readonly number[];
  readonly request?: string;
}

export interface ColdStartReport {
  readonly bundling: string;
  readonly budgetBytes: number;
  readonly runsPerFunction: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly rows: readonly ColdStartRow[];
}

interface Bundler {
  readonly source: string;
  readonly budgetBytes: number;
  readonly baseEnvironment: Readonly<Record<string, string>>;
  options(entryFile: string, outfile: string): BuildOptions;
}

/** The CDK construct's own esbuild options: the bundles measured are the bundles deployed. */
async function loadBundler(): Promise<Bundler> {
  const construct = await import('../cdk/constructs/bank-function');
  return {
    source: 'esbuildOptionsFor() from cdk/constructs/bank-function.ts (the options NodejsFunction is given)',
    budgetBytes: construct.bundleBudgetBytes,
    baseEnvironment: construct.baseEnvironment,
    options: construct.esbuildOptionsFor,
  };
}

export interface ColdStartInputs {
  readonly repoRoot: string;
  readonly url: string;
  readonly runs: number;
  readonly tellerToken: string;
  readonly adminToken: string;
  readonly admin: { readonly username: string; readonly password: string };
  readonly customerId: string;
  readonly accountNos: readonly [string, string];
  /** Environment of the running local stack (BANK_*, AWS_REGION), as the handlers read it. */
  readonly stackEnv: Readonly<Record<string, string>>;
}

interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly rawUrl: string;
  readonly token?: string;
  readonly body?: unknown;
}

function requestFor(route: RouteDef, inputs: ColdStartInputs, run: number): RequestSpec {
  const [a1, a2] = inputs.accountNos;
  const teller = inputs.tellerToken;
  const admin = inputs.adminToken;
  switch (route.name) {
    case 'health':
      return { method: 'GET', rawUrl: '/health' };
    case 'openapi':
      return { method: 'GET', rawUrl: '/openapi.json' };
    case 'auth.login':
      return { method: 'POST', rawUrl: '/auth/login', body: inputs.admin };
    case 'me.get':
      return { method: 'GET', rawUrl: '/me', token: teller };
    case 'users.create':
      return {
        method: 'POST',
        rawUrl: '/users',
        token: admin,
        body: {
          username: `cold-${Date.now().toString(36)}-${run}`,
          password: 'cold-start-password',
          role: 'customer',
        },
      };
    case 'users.list':
      return { method: 'GET', rawUrl: '/users', token: admin };
    case 'accounts.create':
      return {
        method: 'POST',
        rawUrl: '/accounts',
        token: teller,
        body: { ownerId: inputs.customerId, name: 'cold start', pin: '4826' },
      };
    case 'accounts.list':
      return { method: 'GET', rawUrl: '/accounts', token: teller };
    case 'accounts.get':
      return { method: 'GET', rawUrl: `/accounts/${a1}`, token: teller };
    case 'accounts.deposit':
      return { method: 'POST', rawUrl: `/accounts/${a1}/deposit`, token: teller, body: { amount: '1.00' } };
    case 'accounts.withdraw':
      return { method: 'POST', rawUrl: `/accounts/${a1}/withdraw`, token: teller, body: { amount: '1.00' } };
    case 'transfers.create':
      return {
        method: 'POST',
        rawUrl: '/transfers',
        token: teller,
        body: { fromAccountNo: a1, toAccountNo: a2, amount: '1.00' },
      };
    case 'accounts.lock':
      return {
        method: 'POST',
        rawUrl: `/accounts/${a2}/lock`,
        token: teller,
        body: { reason: 'cold start' },
      };
    case 'accounts.unlock':
      return { method: 'POST', rawUrl: `/accounts/${a2}/unlock`, token: teller, body: {} };
    case 'accounts.history':
      return { method: 'GET', rawUrl: `/accounts/${a1}/history`, token: teller };
    case 'auditLogs.list':
      return { method: 'GET', rawUrl: '/audit-logs', token: admin };
    default:
      throw new Error(`cold start: no request for route ${route.name}`);
  }
}

function eventFor(route: RouteDef, spec: RequestSpec, url: string) {
  const headers: Record<string, string> = { 'user-agent': 'bank-bench/cold-start', host: new URL(url).host };
  if (spec.token) headers.authorization = `Bearer ${spec.token}`;
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(spec.body));
  if (spec.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  const values = /\{([a-zA-Z]+)\}/.exec(route.path);
  const pathParameters: Record<string, string> = {};
  if (values?.[1]) {
    const accountNo = /\/accounts\/([0-9]{12})/.exec(spec.rawUrl)?.[1];
    if (accountNo) pathParameters[values[1]] = accountNo;
  }
  return toApiGatewayEvent({
    method: spec.method,
    rawUrl: spec.rawUrl,
    headers,
    body,
    sourceIp: '127.0.0.1',
    route,
    pathParameters,
    requestId: randomUUID(),
    now: new Date(),
    stage: '$default',
    apiId: 'local',
    domainName: '127.0.0.1',
  });
}

interface ChildTimings {
  readonly bootMs: number;
  readonly importMs: number;
  readonly firstRequestMs: number;
  readonly totalMs: number;
  readonly statusCode?: number;
}

export async function measureColdStarts(inputs: ColdStartInputs): Promise<ColdStartReport> {
  const bundler = await loadBundler();
  // Inside node_modules so the bundles resolve their few externals (the SDK packages a Lambda
  // never loads, see sdkExternalModules) the way the runtime would: from an installed SDK.
  const outRoot = path.join(inputs.repoRoot, 'node_modules', '.cache', 'bank-bench');
  await rm(outRoot, { recursive: true, force: true });
  await mkdir(outRoot, { recursive: true });
  const child = path.join(inputs.repoRoot, 'bench', 'cold-start-child.mjs');
  const environment: Record<string, string> = {
    ...bundler.baseEnvironment,
    ...inputs.stackEnv,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    PATH: process.env.PATH ?? '',
  };
  const rows: ColdStartRow[] = [];
  const all: { name: string; entry: string; route?: RouteDef }[] = [
    ...routes.map((route) => ({ name: route.name, entry: route.entry, route })),
    ...backgroundFunctions.map((f) => ({ name: f.name, entry: f.entry })),
  ];
  for (const fn of all) {
    const entryFile = path.join(inputs.repoRoot, 'functions', `${fn.entry}.ts`);
    const exists = await stat(entryFile).then(
      () => true,
      () => false,
    );
    if (!exists) continue;
    const outfile = path.join(outRoot, fn.entry, 'index.mjs');
    await build(bundler.options(entryFile, outfile));
    const bundleBytes = (await stat(outfile)).size;
    if (!fn.route) {
      rows.push({ name: fn.name, entry: fn.entry, bundleBytes });
      continue;
    }
    const timings: ChildTimings[] = [];
    let request = '';
    for (let i = 0; i < inputs.runs; i += 1) {
      const spec = requestFor(fn.route, inputs, i);
      request = `${spec.method} ${spec.rawUrl.replace(/[0-9]{12}/g, '{accountNo}')}`;
      const eventFile = path.join(outRoot, fn.entry, `event-${i}.json`);
      const resultFile = path.join(outRoot, fn.entry, `result-${i}.json`);
      await writeFile(eventFile, JSON.stringify(eventFor(fn.route, spec, inputs.url)));
      try {
        await run(process.execPath, [child, outfile, eventFile, resultFile], {
          env: environment,
          cwd: path.dirname(outfile),
          timeout: 30_000,
          maxBuffer: 16 * 1024 * 1024,
        });
      } catch (error) {
        const stderr = (error as { stderr?: string }).stderr ?? '';
        throw new Error(`cold start of ${fn.entry} failed: ${stderr.slice(0, 800) || String(error)}`);
      }
      timings.push(JSON.parse(await readFile(resultFile, 'utf8')) as ChildTimings);
    }
    const med = (pick: (t: ChildTimings) => number) => median(timings.map(pick));
    rows.push({
      name: fn.name,
      entry: fn.entry,
      bundleBytes,
      runs: timings.length,
      bootMs: med((t) => t.bootMs),
      importMs: med((t) => t.importMs),
      firstRequestMs: med((t) => t.firstRequestMs),
      coldMs: med((t) => t.importMs + t.firstRequestMs),
      totalMs: med((t) => t.totalMs),
      statuses: [...new Set(timings.map((t) => t.statusCode ?? 0))],
      request,
    });
  }
  const shownEnv = Object.fromEntries(
    Object.entries(environment).filter(
      ([k]) => k !== 'PATH' && (!k.includes('SECRET') || k.includes('_ARN')),
    ),
  );
  return {
    bundling: bundler.source,
    budgetBytes: bundler.budgetBytes,
    runsPerFunction: inputs.runs,
    environment: shownEnv,
    rows,
  };
}
