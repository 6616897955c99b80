/**
 * `npm run invoke -- <route> [--path /concrete/path] [--query a=b&c=d] [--body '<json>'|@file]
 *                    [--event event.json] [--as <username>]`
 *
 * Invokes one function's handler once, like `sam local invoke`, against the local bank of
 * ${BANK_DATA_DIR:-.data}: its PostgreSQL (the running `npm start`'s, or started for the call),
 * its role passwords and JWT key, through a Data API server of its own. `<route>` is a route
 * name (`accounts.get`) or handler file (`accounts-get`). The event is the API Gateway v2 event
 * the local gateway would build (same code), or the one in `--event`. `--as` logs that user in
 * through the login function itself (password from BANK_INVOKE_PASSWORD, or asked for on a
 * terminal) and sends the token, so the login path, its rate limits and its audit apply. Prints
 * the handler's result as JSON; handler logs go to stderr.
 */

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { DbRole } from '../shared/auth/db-roles';

// Handler logs are for the operator, the result is for the pipe; WARN unless asked for more.
process.env.POWERTOOLS_LOG_LEVEL ||= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

class InvokeError extends Error {
  override name = 'InvokeError';
}

interface Args {
  route: string;
  path?: string;
  query?: string;
  body?: string;
  event?: string;
  as?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const [route, ...rest] = argv;
  if (!route || route.startsWith('--')) {
    throw new InvokeError(
      'usage: npm run invoke -- <route> [--path /p] [--query a=b] [--body json|@file] [--event file.json] [--as user]',
    );
  }
  const args: Args = { route };
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    const value = rest[i + 1];
    if (value === undefined) throw new InvokeError(`${flag} needs a value`);
    if (flag === '--path') args.path = value;
    else if (flag === '--query') args.query = value;
    else if (flag === '--body') args.body = value;
    else if (flag === '--event') args.event = value;
    else if (flag === '--as') args.as = value;
    else throw new InvokeError(`unknown option ${flag}`);
  }
  return args;
}

async function askPassword(username: string): Promise<string> {
  const given = process.env.BANK_INVOKE_PASSWORD;
  if (given) return given;
  if (!process.stdin.isTTY) {
    throw new InvokeError(`--as ${username} needs the password: set BANK_INVOKE_PASSWORD`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo nothing while the password is typed.
  const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s) => {
    if (s.includes('password for')) write.call(rl, s);
  };
  const answer = await new Promise<string>((resolve) => rl.question(`password for ${username}: `, resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

const args = parseArgs(process.argv.slice(2));
const dataDir = path.resolve(process.env.BANK_DATA_DIR || '.data');

const { routes } = await import('../functions/routes');
const { readSettings } = await import('./settings');
const { livePostmaster, pgdataOf, startPostgres } = await import('./postgres');
const { startServices } = await import('./services');
const { createContext, functionIdentity } = await import('./gateway/context');
const { toApiGatewayEvent } = await import('./gateway/event');
const { createRouter } = await import('./gateway/router');

type Handler = (event: APIGatewayProxyEventV2, context: unknown) => Promise<APIGatewayProxyResultV2>;

async function loadHandler(entry: string): Promise<Handler> {
  const file = path.resolve(import.meta.dirname, '..', 'functions', `${entry}.ts`);
  const mod: unknown = await import(pathToFileURL(file).href);
  const handler = typeof mod === 'object' && mod !== null && 'handler' in mod ? mod.handler : undefined;
  if (typeof handler !== 'function') throw new InvokeError(`functions/${entry}.ts exports no handler`);
  return handler as Handler;
}

function eventFor(
  route: (typeof routes)[number],
  rawUrl: string,
  body: string,
  token: string | undefined,
): APIGatewayProxyEventV2 {
  const router = createRouter(routes);
  const match = router.match(route.method, rawUrl.split('?')[0] ?? rawUrl);
  if (match.kind !== 'found' || match.route.name !== route.name) {
    throw new InvokeError(
      `${rawUrl} is not a path of ${route.name} (${route.method} ${route.path}); pass --path`,
    );
  }
  return toApiGatewayEvent({
    method: route.method,
    rawUrl,
    headers: {
      host: 'localhost',
      'user-agent': 'bank-invoke',
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: Buffer.from(body),
    sourceIp: '127.0.0.1',
    route,
    pathParameters: match.pathParameters,
    requestId: randomUUID(),
    now: new Date(),
    stage: '$default',
    apiId: 'local',
    domainName: 'localhost',
  });
}

async function invoke(route: (typeof routes)[number], event: APIGatewayProxyEventV2) {
  const handler = await loadHandler(route.entry);
  return handler(event, createContext(functionIdentity(route), 29_000));
}

function parsedBody(result: APIGatewayProxyResultV2): unknown {
  if (typeof result !== 'object' || typeof result.body !== 'string') return result;
  try {
    return { ...result, body: JSON.parse(result.body) as unknown };
  } catch {
    return result;
  }
}

try {
  const settings = readSettings(process.env);
  if (!settings.ok) throw new InvokeError(settings.message);
  const route = routes.find((r) => r.name === args.route || r.entry === args.route);
  if (!route) {
    throw new InvokeError(`no route ${args.route}; one of: ${routes.map((r) => r.name).join(', ')}`);
  }
  const secretsFile = path.join(dataDir, 'secrets.json');
  if (!existsSync(secretsFile))
    throw new InvokeError(`no bank data in ${dataDir}; run npm start first or set BANK_DATA_DIR`);
  const secrets = JSON.parse(await readFile(secretsFile, 'utf8')) as {
    rolePasswords: Record<DbRole, string>;
    jwtSecret: string;
  };
  const live = livePostmaster(pgdataOf(dataDir));
  const owned = live ? undefined : await startPostgres({ dataDir });
  const pgPort = live?.port ?? owned?.port ?? 0;
  const services = await startServices({
    pg: { host: '127.0.0.1', port: pgPort },
    database: 'bank',
    rolePasswords: secrets.rolePasswords,
    jwtSecret: secrets.jwtSecret,
    port: 0,
  });
  let code = 0;
  try {
    let token: string | undefined;
    if (args.as) {
      const login = routes.find((r) => r.name === 'auth.login');
      if (!login) throw new InvokeError('no login route');
      const password = await askPassword(args.as);
      const result = await invoke(
        login,
        eventFor(login, login.path, JSON.stringify({ username: args.as, password }), undefined),
      );
      const body = typeof result === 'object' && typeof result.body === 'string' ? result.body : '';
      const accessToken = (JSON.parse(body || '{}') as { accessToken?: unknown }).accessToken;
      if (typeof accessToken !== 'string') throw new InvokeError(`login as ${args.as} failed: ${body}`);
      token = accessToken;
    }
    let event: APIGatewayProxyEventV2;
    if (args.event) {
      event = JSON.parse(await readFile(args.event, 'utf8')) as APIGatewayProxyEventV2;
      if (typeof event !== 'object' || event === null || event.version !== '2.0') {
        throw new InvokeError(`${args.event} is not an API Gateway v2 event (version "2.0")`);
      }
      if (token) event.headers = { ...event.headers, authorization: `Bearer ${token}` };
    } else {
      const body = args.body?.startsWith('@')
        ? await readFile(args.body.slice(1), 'utf8')
        : (args.body ?? '');
      const rawUrl = `${args.path ?? route.path}${args.query ? `?${args.query}` : ''}`;
      event = eventFor(route, rawUrl, body, token);
    }
    const result = await invoke(route, event);
    console.log(JSON.stringify(parsedBody(result), null, 2));
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    code = 1;
  } finally {
    await services.close();
    await owned?.stop();
  }
  process.exit(code);
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
