import { type Dirent, existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BackReference,
  backReferenceFile,
  claims,
  defaultClustersHome,
  readBackReference,
  realOrResolved,
  recordedClusterDir,
  removeOwnedTree,
} from './cluster-home';
import { isRoot, livePostmaster } from './postgres';

/**
 * The clusters that `npm start` keeps outside its data directory when it runs as root
 * (cluster-home.ts): removing one with its data directory (removeCluster, removeDataDir), and
 * `npm run clusters`, which lists them and prunes the orphans.
 */

export interface RemoveClusterOptions {
  /** The clusters home (default /var/lib/secure-bank/clusters). */
  readonly home?: string;
  /** How long to wait for a PostgreSQL still serving the cluster to stop before leaving it (default 0). */
  readonly waitForStopMs?: number;
}

export interface RemoveOutcome {
  /** removed; nothing to remove (no cluster, or one inside the data directory); refused (left, with the reason). */
  readonly outcome: 'removed' | 'nothing' | 'refused';
  /** The cluster's directory, when cluster.json names one. */
  readonly cluster?: string;
  readonly reason: string;
}

/** Where a cluster directory sits, checked without following a symlink out of its place. */
type Placement =
  | { readonly kind: 'home' | 'ephemeral'; readonly dir: string }
  | { readonly kind: 'gone' }
  | { readonly kind: 'elsewhere'; readonly reason: string };

function realDir(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * A cluster directory is ours to remove only as a real directory (not a symlink) directly in the
 * clusters home, or a `bank-pg-` directory directly in the temporary directory (an ephemeral test
 * cluster). Its parent is resolved, its own name is not: a symlink in the home that points out of
 * it is refused, not followed.
 */
function placementOf(clusterDir: string, home: string): Placement {
  const resolved = path.resolve(clusterDir);
  const name = path.basename(resolved);
  const parent = realDir(path.dirname(resolved));
  if (parent === undefined) return { kind: 'gone' };
  const dir = path.join(parent, name);
  let isDir: boolean;
  try {
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) return { kind: 'elsewhere', reason: `${dir} is a symlink` };
    isDir = st.isDirectory();
  } catch {
    return { kind: 'gone' };
  }
  if (!isDir) return { kind: 'elsewhere', reason: `${dir} is not a directory` };
  const realHome = realDir(home);
  if (realHome !== undefined && parent === realHome) return { kind: 'home', dir };
  const realTmp = realDir(tmpdir());
  if (realTmp !== undefined && parent === realTmp && name.startsWith('bank-pg-'))
    return { kind: 'ephemeral', dir };
  return {
    kind: 'elsewhere',
    reason: `${dir} is neither in ${home} nor a temporary bank-pg- directory`,
  };
}

/** The live postmaster on the cluster in `dir`, under its recorded path or its real one. */
function running(dir: string, recordedPgdata?: string): { pid: number; port: number } | undefined {
  return (
    livePostmaster(path.join(dir, 'pgdata')) ?? (recordedPgdata ? livePostmaster(recordedPgdata) : undefined)
  );
}

async function stillRunning(
  dir: string,
  recordedPgdata: string | undefined,
  waitMs: number,
): Promise<{ pid: number; port: number } | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const live = running(dir, recordedPgdata);
    if (!live || Date.now() >= deadline) return live;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Removes the cluster that `dataDir/cluster.json` names, when that is safe: it is a cluster of
 * the clusters home (or an ephemeral `bank-pg-` one), no PostgreSQL serves it, and its
 * back-reference, when it has one, names this data directory. Otherwise it is left, and the
 * outcome says why. The data directory itself is not touched, except that a removed cluster's
 * cluster.json goes too.
 */
export async function removeCluster(
  dataDir: string,
  options: RemoveClusterOptions = {},
): Promise<RemoveOutcome> {
  const home = options.home ?? defaultClustersHome;
  const clusterFile = path.join(dataDir, 'cluster.json');
  if (!existsSync(clusterFile)) return { outcome: 'nothing', reason: `no cluster.json in ${dataDir}` };
  let recorded: string | undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(clusterFile, 'utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'pgdata' in parsed &&
      typeof parsed.pgdata === 'string'
    ) {
      recorded = path.resolve(parsed.pgdata);
    }
  } catch {
    return { outcome: 'refused', reason: `${clusterFile} cannot be read as JSON` };
  }
  if (recorded === undefined || !path.relative(path.resolve(dataDir), recorded).startsWith('..')) {
    return { outcome: 'nothing', reason: 'the cluster is inside the data directory and goes with it' };
  }
  const cluster = path.dirname(recorded);
  if (path.basename(recorded) !== 'pgdata') {
    return {
      outcome: 'refused',
      cluster,
      reason: `${recorded} is not a pgdata/ in a cluster directory of its own`,
    };
  }
  const placement = placementOf(cluster, home);
  if (placement.kind === 'gone') return { outcome: 'nothing', cluster, reason: `${cluster} is already gone` };
  if (placement.kind === 'elsewhere') return { outcome: 'refused', cluster, reason: placement.reason };
  if (placement.kind === 'home') {
    const back = readBackReference(placement.dir);
    if (back.kind === 'bad') return { outcome: 'refused', cluster, reason: back.reason };
    const self = realOrResolved(dataDir);
    if (back.kind === 'ok' && back.ref.dataDir !== self) {
      return {
        outcome: 'refused',
        cluster,
        reason: `its ${backReferenceFile} names ${back.ref.dataDir}, not ${self}`,
      };
    }
  }
  const live = await stillRunning(placement.dir, recorded, options.waitForStopMs ?? 0);
  if (live) {
    return {
      outcome: 'refused',
      cluster,
      reason: `a PostgreSQL (pid ${live.pid}, port ${live.port}) still runs on it`,
    };
  }
  try {
    await removeOwnedTree(placement.dir);
  } catch (error) {
    return { outcome: 'refused', cluster, reason: error instanceof Error ? error.message : String(error) };
  }
  await rm(clusterFile, { force: true });
  return { outcome: 'removed', cluster, reason: `removed ${placement.dir}` };
}

/**
 * Removes a bank data directory after a run, and first the cluster it names outside itself
 * (removeCluster, waiting a while for its PostgreSQL to stop). A cluster that must be left is
 * named in a warning; the data directory goes either way.
 */
export async function removeDataDir(
  dataDir: string,
  options: RemoveClusterOptions & { readonly warn?: (line: string) => void } = {},
): Promise<RemoveOutcome> {
  const warn = options.warn ?? ((line: string) => console.warn(line));
  let result: RemoveOutcome;
  try {
    result = await removeCluster(dataDir, { waitForStopMs: 15_000, ...options });
  } catch (error) {
    result = { outcome: 'refused', reason: error instanceof Error ? error.message : String(error) };
  }
  if (result.outcome === 'refused') {
    warn(`warning: left the cluster ${result.cluster ?? `of ${dataDir}`}: ${result.reason}`);
  }
  await rm(dataDir, { recursive: true, force: true });
  return result;
}

// ---- npm run clusters ------------------------------------------------------------------------------

export type ClusterStatus = 'in use' | 'orphaned' | 'unknown';

export interface ClusterEntry {
  readonly id: string;
  readonly dir: string;
  readonly bytes: number;
  readonly running: { readonly pid: number; readonly port: number } | undefined;
  readonly backReference: BackReference | undefined;
  readonly status: ClusterStatus;
  /** The data directory column: where it is used from, or why it is orphaned or unknown. */
  readonly dataDir: string;
  /** Why its back-reference does not count (not a regular file of ours, not JSON): never pruned. */
  readonly problem?: string;
}

export interface ListOptions {
  readonly home?: string;
  /** Directories searched (3 levels deep) for data directories whose cluster.json names a cluster. */
  readonly searchRoots?: readonly string[];
  /** Data directories to look at besides those (BANK_DATA_DIR, ./.data). */
  readonly dataDirs?: readonly string[];
}

/** Disk use of a tree, as du counts it, without following symlinks. */
async function diskUse(p: string): Promise<number> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(p);
  } catch {
    return 0;
  }
  let total = st.blocks * 512;
  if (st.isDirectory()) {
    let names: string[] = [];
    try {
      names = await readdir(p);
    } catch {
      return total;
    }
    for (const name of names) total += await diskUse(path.join(p, name));
  }
  return total;
}

/**
 * Data directories (directories holding a cluster.json) up to `depth` levels below `root`,
 * without following symlinks or entering node_modules, .git or a cluster.
 */
async function findDataDirs(root: string, depth: number, skip: string): Promise<string[]> {
  const found: string[] = [];
  let visited = 0;
  const walk = async (dir: string, left: number): Promise<void> => {
    if (visited++ > 50_000) return;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.name === 'cluster.json' && e.isFile())) found.push(dir);
    if (left === 0) return;
    for (const e of entries) {
      if (!e.isDirectory() || ['node_modules', '.git', 'pgdata'].includes(e.name)) continue;
      const sub = path.join(dir, e.name);
      if (sub === skip) continue;
      await walk(sub, left - 1);
    }
  };
  await walk(root, depth);
  return found;
}

/** The clusters in the home, each with its size, whether it runs, and whose it is. */
export async function listClusters(options: ListOptions = {}): Promise<ClusterEntry[]> {
  const home = options.home ?? defaultClustersHome;
  const realHome = realDir(home);
  if (realHome === undefined) return [];
  const dirents = await readdir(realHome, { withFileTypes: true });
  const dirs = dirents.filter((d) => d.isDirectory()).map((d) => path.join(realHome, d.name));
  const backs = new Map(dirs.map((dir) => [dir, readBackReference(dir)] as const));

  // Every data directory we can find, and the cluster each names.
  const candidates = new Set<string>();
  for (const back of backs.values()) if (back.kind === 'ok') candidates.add(back.ref.dataDir);
  for (const d of options.dataDirs ?? []) candidates.add(realOrResolved(d));
  for (const root of options.searchRoots ?? []) {
    for (const d of await findDataDirs(root, 3, realHome)) candidates.add(realOrResolved(d));
  }
  const claimedBy = new Map<string, string[]>();
  for (const d of candidates) {
    const recorded = recordedClusterDir(d);
    if (recorded === undefined) continue;
    const key = realOrResolved(recorded);
    claimedBy.set(key, [...(claimedBy.get(key) ?? []), d]);
  }

  const entries: ClusterEntry[] = [];
  for (const dir of dirs.sort()) {
    const back = backs.get(dir) ?? { kind: 'none' as const };
    const users = claimedBy.get(dir) ?? [];
    const base = {
      id: path.basename(dir),
      dir,
      bytes: await diskUse(dir),
      running: running(dir),
      backReference: back.kind === 'ok' ? back.ref : undefined,
    };
    if (back.kind === 'ok') {
      const named = back.ref.dataDir;
      const [user] = users;
      if (users.includes(named)) {
        entries.push({ ...base, status: 'in use', dataDir: named });
      } else if (existsSync(named) && recordedClusterDir(named) === undefined) {
        // Being made (cluster.json is written once initdb is done), or from before clusters were recorded.
        entries.push({ ...base, status: 'in use', dataDir: `${named} (no cluster recorded in it yet)` });
      } else if (user !== undefined) {
        entries.push({ ...base, status: 'in use', dataDir: `${user} (its back-reference names ${named})` });
      } else {
        const why = existsSync(named) ? `${named} (uses another cluster now)` : `${named} (gone)`;
        entries.push({ ...base, status: 'orphaned', dataDir: why });
      }
    } else {
      const [user] = users;
      const problem = back.kind === 'bad' ? { problem: back.reason } : {};
      if (user !== undefined) {
        entries.push({ ...base, ...problem, status: 'in use', dataDir: `${user} (no back-reference)` });
      } else {
        const note = back.kind === 'bad' ? `unknown (${back.reason}; not pruned)` : 'unknown';
        entries.push({ ...base, ...problem, status: 'unknown', dataDir: note });
      }
    }
  }
  return entries;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export interface ClustersCommandOptions extends ListOptions {
  /** Whether we run as root (default: whether we do); as another user clusters live in their data directories. */
  readonly asRoot?: boolean;
  readonly print?: (line: string) => void;
}

const usage =
  'usage: npm run clusters [-- --prune [--unknown]]\n' +
  '  lists the PostgreSQL clusters kept in the clusters home (as root) and whose they are\n' +
  '  --prune            removes the orphaned ones (their data directory is gone, or uses another cluster) that are not running\n' +
  '  --unknown          with --prune: also those that are not running, have no back-reference, and no data directory found claims';

/**
 * `npm run clusters [-- --prune [--unknown]]`. Exit code 0 when all went well, 1 when a
 * cluster to prune could not be removed, 2 for bad usage.
 */
export async function clustersCommand(
  argv: readonly string[],
  options: ClustersCommandOptions = {},
): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  let flags: { prune: boolean; unknown: boolean; help: boolean };
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        prune: { type: 'boolean', default: false },
        unknown: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    flags = { prune: values.prune, unknown: values.unknown, help: values.help };
  } catch (error) {
    print(`error: ${error instanceof Error ? error.message : String(error)}`);
    print(usage);
    return 2;
  }
  if (flags.help) {
    print(usage);
    return 0;
  }
  if (flags.unknown && !flags.prune) {
    print('error: --unknown goes with --prune');
    print(usage);
    return 2;
  }
  const home = options.home ?? defaultClustersHome;
  if (!(options.asRoot ?? isRoot())) {
    print(
      'nothing to list: not running as root, each cluster lives inside its data directory (pgdata/) and goes with it',
    );
    return 0;
  }
  const entries = await listClusters({ ...options, home });
  if (entries.length === 0) {
    print(`no clusters in ${home}`);
    return 0;
  }
  const rows = entries.map((e) => [
    e.id,
    formatBytes(e.bytes),
    e.running ? `pid ${e.running.pid}` : 'no',
    e.status,
    e.dataDir,
  ]);
  const header = ['CLUSTER', 'SIZE', 'RUNNING', 'STATUS', 'DATA DIRECTORY'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  print(`clusters in ${home}:`);
  print(line(header));
  for (const r of rows) print(line(r));
  const sum = (list: readonly ClusterEntry[]) => formatBytes(list.reduce((n, e) => n + e.bytes, 0));
  const of = (status: ClusterStatus) => entries.filter((e) => e.status === status);
  const [inUse, orphaned, unknown] = [of('in use'), of('orphaned'), of('unknown')];
  print(
    `${entries.length} clusters, ${sum(entries)}: ${entries.filter((e) => e.running).length} running, ` +
      `${inUse.length} in use (${sum(inUse)}), ${orphaned.length} orphaned (${sum(orphaned)}), ` +
      `${unknown.length} unknown (${sum(unknown)})`,
  );

  if (!flags.prune) {
    if (orphaned.length > 0)
      print('npm run clusters -- --prune removes the orphaned ones that are not running');
    if (unknown.length > 0) {
      const searched = [
        ...(options.searchRoots ?? []).map((r) => `${r} (3 levels deep)`),
        ...(options.dataDirs ?? []),
      ];
      print(
        'unknown: made before clusters named their data directory, and no data directory found names them ' +
          `(searched: ${[...searched, 'the data directories clusters name'].join(', ')})`,
      );
      print(
        'npm run clusters -- --prune --unknown removes those not running: only if no other data directory of yours uses them',
      );
    }
    return 0;
  }

  const targets = entries.filter(
    (e) =>
      !e.running &&
      (e.status === 'orphaned' || (flags.unknown && e.status === 'unknown' && e.problem === undefined)),
  );
  let failed = 0;
  let freed = 0;
  for (const e of targets) {
    const why = await pruneOne(e, home);
    if (why === undefined) {
      freed += e.bytes;
      print(`removed ${e.id} (${formatBytes(e.bytes)}, ${e.status}: ${e.dataDir})`);
    } else {
      failed += 1;
      print(`error: could not remove ${e.id}: ${why}`);
    }
  }
  const leftRunning = entries.filter(
    (e) => e.running && (e.status === 'orphaned' || (flags.unknown && e.status === 'unknown')),
  ).length;
  print(
    `pruned ${targets.length - failed} of ${targets.length} cluster(s), freed ${formatBytes(freed)}` +
      (failed > 0 ? `; ${failed} could not be removed` : '') +
      (leftRunning > 0 ? `; ${leftRunning} left because PostgreSQL runs on them` : ''),
  );
  return failed > 0 ? 1 : 0;
}

/** Removes one listed cluster after checking again that nothing changed; the reason when it did not. */
async function pruneOne(entry: ClusterEntry, home: string): Promise<string | undefined> {
  const placement = placementOf(entry.dir, home);
  if (placement.kind !== 'home') return placement.kind === 'elsewhere' ? placement.reason : 'it is gone';
  const back = readBackReference(placement.dir);
  const now = back.kind === 'ok' ? back.ref.dataDir : undefined;
  if (now !== entry.backReference?.dataDir) return `its ${backReferenceFile} changed meanwhile`;
  if (now !== undefined && existsSync(now) && claims(now, placement.dir)) return `${now} uses it again`;
  const live = running(placement.dir);
  if (live) return `a PostgreSQL (pid ${live.pid}) started on it meanwhile`;
  try {
    await removeOwnedTree(placement.dir);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}
