import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { lstat, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

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

const execFileAsync = promisify(execFile);

/**
 * Removes the directory `dir` and everything in it, as root with the rights of its owner (the
 * server user, for a cluster): the tree is that user's, and a recursive removal by path follows
 * a directory its owner swaps for a symlink between the removal's rmdir and its readdir, so as
 * root it would remove files anywhere. Here the owner's `rm -rf` empties it (whatever it plants,
 * it removes only what it could remove itself), and root removes the emptied directory, which
 * is not followed if it became a symlink. Throws, leaving the rest, when something in it is not
 * the owner's to remove. Not as root, the tree is our own: removed directly.
 */
export async function removeOwnedTree(dir: string): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  const entries = await readdir(dir);
  if (entries.length > 0) {
    try {
      await execFileAsync(
        existsSync('/usr/bin/rm') ? '/usr/bin/rm' : '/bin/rm',
        ['-rf', '--', ...entries.map((name) => path.join(dir, name))],
        // root's own tree: GNU rm, which does not follow a symlink swapped in mid-removal.
        { cwd: '/', ...(st.uid === 0 ? {} : { uid: st.uid, gid: st.gid }) },
      );
    } catch (error) {
      const stderr = (error as { stderr?: unknown }).stderr;
      const first = typeof stderr === 'string' ? stderr.trim().split('\n')[0] : undefined;
      throw new Error(
        `${dir} could not be removed: ${first || (error instanceof Error ? error.message : String(error))}`,
      );
    }
  }
  try {
    await rmdir(dir);
  } catch (error) {
    throw new Error(`${dir} could not be removed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
