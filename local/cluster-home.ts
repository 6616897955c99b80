import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * As root, PostgreSQL runs as the `postgres` OS user, who cannot reach a 0700 home, so each
 * cluster gets a directory of its own here (`<id>/pgdata`), and the data directory's
 * `cluster.json` names it. Removing the data directory does not remove the cluster, so beside
 * `pgdata/` the cluster keeps a back-reference to the data directory that made it: with it a
 * cluster whose data directory is gone can be recognised (`npm run clusters`).
 */
export const defaultClustersHome = '/var/lib/secure-bank/clusters';

/** The back-reference, in the cluster's own directory beside `pgdata/`: root's, mode 0600. */
export const backReferenceFile = 'data-dir.json';

export interface BackReference {
  /** The data directory (its real path) whose cluster.json names this cluster. */
  readonly dataDir: string;
  /** When the cluster was made (for a cluster made before back-references: when initdb ran). */
  readonly createdAt: string;
}

export type BackReferenceRead =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly ref: BackReference }
  | { readonly kind: 'bad'; readonly reason: string };

/** The real path of `p` when it exists, else its absolute path. */
export function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Writes the back-reference through a new file renamed into place: `rename` replaces whatever
 * is there (a symlink the server user planted included) instead of writing through it.
 */
export async function writeBackReference(clusterDir: string, ref: BackReference): Promise<void> {
  const target = path.join(clusterDir, backReferenceFile);
  const temp = path.join(clusterDir, `.${backReferenceFile}.${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temp, `${JSON.stringify(ref)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The back-reference of the cluster in `clusterDir`. Only a regular file (not a symlink) owned by
 * this user counts: the directory belongs to the server user, who must not be able to name
 * another data directory for it.
 */
export function readBackReference(clusterDir: string): BackReferenceRead {
  const file = path.join(clusterDir, backReferenceFile);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'none' };
    return { kind: 'bad', reason: `${backReferenceFile} cannot be read (${code ?? 'error'})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'bad', reason: `${backReferenceFile} is not a regular file` };
    const me = typeof process.getuid === 'function' ? process.getuid() : st.uid;
    if (st.uid !== me)
      return { kind: 'bad', reason: `${backReferenceFile} belongs to uid ${st.uid}, not to us` };
    const parsed: unknown = JSON.parse(readFileSync(fd, 'utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'dataDir' in parsed &&
      'createdAt' in parsed &&
      typeof parsed.dataDir === 'string' &&
      path.isAbsolute(parsed.dataDir) &&
      typeof parsed.createdAt === 'string'
    ) {
      return { kind: 'ok', ref: { dataDir: parsed.dataDir, createdAt: parsed.createdAt } };
    }
    return { kind: 'bad', reason: `${backReferenceFile} does not name a data directory` };
  } catch {
    return { kind: 'bad', reason: `${backReferenceFile} is not JSON` };
  } finally {
    closeSync(fd);
  }
}

/**
 * The cluster directory (the parent of `pgdata/`) that `dataDir/cluster.json` records, or
 * undefined when it records none (no file, unreadable, or a data directory from before
 * clusters were recorded, whose cluster is its own `pgdata/`).
 */
export function recordedClusterDir(dataDir: string): string | undefined {
  const file = path.join(dataDir, 'cluster.json');
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('pgdata' in parsed)) return undefined;
    return typeof parsed.pgdata === 'string' ? path.dirname(path.resolve(parsed.pgdata)) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `dataDir/cluster.json` names the cluster in `clusterDir`. */
export function claims(dataDir: string, clusterDir: string): boolean {
  const recorded = recordedClusterDir(dataDir);
  return recorded !== undefined && realOrResolved(recorded) === realOrResolved(clusterDir);
}

/**
 * On a start: makes the cluster's back-reference name `dataDir` when it names nothing (a cluster
 * made before back-references) or names a data directory that no longer uses this cluster (the
 * data directory was moved). A back-reference to another data directory that still uses it is
 * left alone: that one was there first.
 */
export async function claimCluster(clusterDir: string, dataDir: string): Promise<void> {
  const read = readBackReference(clusterDir);
  const self = realOrResolved(dataDir);
  if (read.kind === 'ok') {
    if (read.ref.dataDir === self) return;
    if (existsSync(read.ref.dataDir) && claims(read.ref.dataDir, clusterDir)) return;
  }
  const createdAt =
    read.kind === 'ok'
      ? read.ref.createdAt
      : ((await stat(path.join(clusterDir, 'pgdata', 'PG_VERSION')).catch(() => undefined))?.mtime ??
        new Date());
  await writeBackReference(clusterDir, {
    dataDir: self,
    createdAt: typeof createdAt === 'string' ? createdAt : createdAt.toISOString(),
  });
}

/**
 * claimCluster for the cluster of `pgdata` when it is one of the clusters home's (`<home>/<id>/pgdata`);
 * nothing for any other cluster. Best effort: a back-reference that cannot be written must not
 * stop a start or a restore.
 */
export async function claimIfHomed(
  pgdata: string,
  dataDir: string,
  home = defaultClustersHome,
): Promise<void> {
  const clusterDir = path.dirname(path.resolve(pgdata));
  if (path.basename(pgdata) !== 'pgdata') return;
  if (realOrResolved(path.dirname(clusterDir)) !== realOrResolved(home)) return;
  await claimCluster(clusterDir, dataDir).catch(() => undefined);
}
