import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pgdataOf } from '../../local/postgres';

/**
 * The real `npm start` (tsx local/start.ts) as a child process in its own process group, so the
 * harness can kill the whole tree with SIGKILL, and its PostgreSQL alone, as a crash would.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export interface BankProcessOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly env: Readonly<Record<string, string>>;
  readonly startTimeoutMs: number;
  /** Called for each function timeout the bank logs (middy's own early answer, before the gateway's). */
  readonly onFunctionTimeout?: () => void;
}

/** middy's timeout: the handler answers (500) just before its deadline, so the gateway's 503 does not come. */
const middyTimeout = /"errorName":"TimeoutError".*"cause":\{"package":"@middy\/core"\}/;

export interface BankProcess {
  readonly url: string;
  readonly pid: number;
  /** The last lines the process printed (for a failed start or a crash). */
  output(): string;
  exited(): boolean;
}

export async function startBank(options: BankProcessOptions): Promise<BankProcess> {
  const child = spawn(process.execPath, [tsxCli, path.join(repoRoot, 'local', 'start.ts')], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env, PORT: String(options.port), BANK_DATA_DIR: options.dataDir },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stderr?.on('data', keep);
  // The log, line by line (a chunk may end mid-line), for the function timeouts it records.
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const complete = (partial + chunk.toString('utf8')).split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) if (middyTimeout.test(line)) options.onFunctionTimeout?.();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child);
      reject(
        new Error(`npm start did not become ready in ${options.startTimeoutMs} ms:\n${lines.join('\n')}`),
      );
    }, options.startTimeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk);
      const match = /bank API listening on (http:\/\/\S+)/.exec(chunk.toString('utf8'));
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code ?? signal}) before it was ready:\n${lines.join('\n')}`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('npm start has no pid');
  processes.set(pid, child);
  return { url, pid, output: () => lines.join('\n'), exited: () => exited };
}

const processes = new Map<number, ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * SIGKILL to the whole `npm start` process tree: its process group, and every descendant of it
 * (npm start runs PostgreSQL in a process group of its own, so that a terminal's Ctrl-C reaches
 * the bank first and PostgreSQL is stopped after it; a crash of the machine or `kill -9` of the
 * tree still takes PostgreSQL and its backends with it).
 */
export async function killBankTree(bank: BankProcess): Promise<void> {
  const child = processes.get(bank.pid);
  if (!child) return;
  processes.delete(bank.pid);
  const gone = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const tree = child.pid === undefined ? [] : descendantsOf(child.pid);
  killGroup(child);
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await gone;
}

/** Every descendant of `pid` (bounded: a bank's tree is node, PostgreSQL and its backends). */
function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 1000) {
    const next = queue.shift();
    if (next === undefined) break;
    for (const c of childrenOf(next)) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** 'gone', 'zombie' (dead, not yet reaped: kill(pid, 0) still succeeds) or 'alive'. */
export function processState(pid: number): 'gone' | 'zombie' | 'alive' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'zombie' : 'alive';
  } catch {
    return 'gone';
  }
}

/**
 * Waits for a killed postmaster to disappear. A SIGKILLed process lingers until its parent (here,
 * after the tree died, the init process) reaps it, and PostgreSQL refuses to start while the pid
 * in postmaster.pid still answers. Returns the pid's state when the wait ended.
 */
export async function waitGone(pid: number, timeoutMs: number): Promise<'gone' | 'zombie' | 'alive'> {
  const until = Date.now() + timeoutMs;
  let state = processState(pid);
  while (state !== 'gone' && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    state = processState(pid);
  }
  return state;
}

/** Stops it the polite way (SIGTERM), for the end of a run. */
export async function stopBank(bank: BankProcess, timeoutMs: number): Promise<void> {
  const child = processes.get(bank.pid);
  if (!child) return;
  const gone = new Promise<boolean>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(true);
    else {
      child.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), timeoutMs).unref();
    }
  });
  try {
    process.kill(child.pid ?? 0, 'SIGTERM');
  } catch {
    // Already gone.
  }
  if (!(await gone)) killGroup(child);
  processes.delete(bank.pid);
}

// ---- PostgreSQL alone --------------------------------------------------------------------------

export interface PgInfo {
  readonly pid: number;
  readonly port: number;
}

/** The running postmaster, from its pid file (line 1: pid, line 4: port). */
export function postmaster(dataDir: string): PgInfo | undefined {
  const pidFile = path.join(pgdataOf(dataDir), 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  const info = { pid: Number(pid), port: Number(port) };
  if (!Number.isInteger(info.pid) || !Number.isInteger(info.port)) return undefined;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** SIGKILL to the postmaster and its backends, as the OOM killer or a crash would. */
export function killPostgres(info: PgInfo): void {
  const victims = [info.pid, ...childrenOf(info.pid)];
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
