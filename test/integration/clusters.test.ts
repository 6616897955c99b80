import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  backReferenceFile,
  claimIfHomed,
  readBackReference,
  writeBackReference,
} from '../../local/cluster-home';
import { clustersCommand, listClusters, removeCluster, removeDataDir } from '../../local/clusters';
import { isRoot, type LocalPostgres, serverUser, startPostgres } from '../../local/postgres';
import { npm, repoRoot } from '../helpers/process';

/**
 * The clusters `npm start` keeps outside its data directory as root: removed with their data
 * directory only when that is safe, and listed and pruned by `npm run clusters`. Every case works
 * on a clusters home of its own in a temporary directory, never on the machine's.
 */
let root: string;
let home: string;
let server: LocalPostgres | undefined;

beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'bank-clusters-')));
  // The server user (as root) must reach the clusters home, as it reaches /var/lib/secure-bank.
  await chmod(root, 0o755);
  home = path.join(root, 'home');
  await mkdir(home, { mode: 0o755 });
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

const createdAt = '2026-01-02T03:04:05.000Z';

/** A cluster directory in the home (`<id>/pgdata/PG_VERSION`), with a back-reference when given one. */
async function cluster(id: string, backReference?: string): Promise<string> {
  const dir = path.join(home, id);
  await mkdir(path.join(dir, 'pgdata'), { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, 'pgdata', 'PG_VERSION'), '18\n');
  await writeFile(path.join(dir, 'pgdata', 'base'), Buffer.alloc(64 * 1024, 1));
  if (backReference !== undefined) await writeBackReference(dir, { dataDir: backReference, createdAt });
  return dir;
}

/** A data directory under the test's root whose cluster.json names the cluster in `clusterDir`. */
async function dataDirNaming(name: string, clusterDir: string): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(
    path.join(dir, 'cluster.json'),
    JSON.stringify({ superuserPassword: 'x', pgdata: path.join(clusterDir, 'pgdata') }),
  );
  return dir;
}

const du = (dir: string) =>
  Number(execFileSync('du', ['-s', '-B1', dir], { encoding: 'utf8' }).split('\t')[0]);

/**
 * A cluster the server user owns, as `npm start` makes them, in which that user has left a
 * directory of root's with a file (standing for anything outside the cluster that a symlink
 * swapped in mid-removal would expose: recursive removal by path follows a directory that
 * becomes a symlink between its rmdir and its readdir). Removal with the owner's rights cannot
 * touch it; removal as root would.
 */
async function ownedByServerUser(dir: string): Promise<string> {
  const user = await serverUser();
  if (!user) throw new Error('no server user');
  const rootsOwn = path.join(dir, 'pgdata', 'roots-own');
  await mkdir(rootsOwn, { mode: 0o755 });
  await writeFile(path.join(rootsOwn, 'keep'), 'not the server user’s to remove\n');
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, path.join(dir, 'pgdata')]);
  execFileSync('chown', [`${user.uid}:${user.gid}`, dir]);
  execFileSync('chown', ['-R', '0:0', rootsOwn]);
  return path.join(rootsOwn, 'keep');
}

describe('removeCluster', () => {
  it('removes the cluster its data directory names when the back-reference names that directory, and its cluster.json', async () => {
    // Prepare
    const target = await cluster('aaaa', path.join(root, 'data'));
    const other = await cluster('bbbb', path.join(root, 'other'));
    const dataDir = await dataDirNaming('data', target);
    // Act
    const outcome = await removeCluster(dataDir, { home });
    // Assess
    expect(outcome).toEqual({ outcome: 'removed', cluster: target, reason: `removed ${target}` });
    expect(existsSync(target)).toBe(false);
    expect(existsSync(path.join(dataDir, 'cluster.json'))).toBe(false);
    expect(existsSync(path.join(other, 'pgdata', 'PG_VERSION'))).toBe(true);
  });

  it('removes a cluster made before back-references (none beside it) that its data directory names', async () => {
    const target = await cluster('aaaa');
    const dataDir = await dataDirNaming('data', target);
    expect(await removeCluster(dataDir, { home })).toEqual({
      outcome: 'removed',
      cluster: target,
      reason: `removed ${target}`,
    });
    expect(existsSync(target)).toBe(false);
  });

  it('removes an ephemeral bank-pg- cluster in the temporary directory', async () => {
    const ephemeral = await mkdtemp(path.join(tmpdir(), 'bank-pg-'));
    try {
      await mkdir(path.join(ephemeral, 'pgdata'));
      const dataDir = await dataDirNaming('data', ephemeral);
      expect(await removeCluster(dataDir, { home })).toEqual({
        outcome: 'removed',
        cluster: ephemeral,
        reason: `removed ${await realpath(tmpdir())}/${path.basename(ephemeral)}`,
      });
      expect(existsSync(ephemeral)).toBe(false);
    } finally {
      await rm(ephemeral, { recursive: true, force: true });
    }
  });

  it.runIf(isRoot())(
    "removes a cluster with its owner's rights, never root's: what the server user could not remove stays, and it says so",
    async () => {
      // Prepare
      const target = await cluster('aaaa', path.join(root, 'data'));
      const dataDir = await dataDirNaming('data', target);
      const keep = await ownedByServerUser(target);
      // Act
      const outcome = await removeCluster(dataDir, { home });
      // Assess
      expect(outcome).toEqual({
        outcome: 'refused',
        cluster: target,
        reason: expect.stringMatching(new RegExp(`^${target} could not be removed: .*Permission denied`)),
      });
      expect(readFileSync(keep, 'utf8')).toBe('not the server user’s to remove\n');
      // What the server user could remove is gone; the data directory still names its cluster.
      expect(existsSync(path.join(target, 'pgdata', 'PG_VERSION'))).toBe(false);
      expect(existsSync(path.join(dataDir, 'cluster.json'))).toBe(true);
    },
  );

  it.runIf(isRoot())(
    "removes an ephemeral cluster with its owner's rights too, and all of a cluster whose owner can",
    async () => {
      // Prepare
      const ephemeral = await mkdtemp(path.join(tmpdir(), 'bank-pg-'));
      const whole = await cluster('bbbb', path.join(root, 'whole'));
      const wholeData = await dataDirNaming('whole', whole);
      const user = await serverUser();
      if (!user) throw new Error('no server user');
      execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, path.join(whole, 'pgdata')]);
      execFileSync('chown', [`${user.uid}:${user.gid}`, whole]);
      try {
        await mkdir(path.join(ephemeral, 'pgdata'));
        const keep = await ownedByServerUser(ephemeral);
        const dataDir = await dataDirNaming('data', ephemeral);
        // Act
        const outcome = await removeCluster(dataDir, { home });
        const wholeOutcome = await removeCluster(wholeData, { home });
        // Assess
        expect(outcome.outcome).toBe('refused');
        expect(existsSync(keep)).toBe(true);
        expect(wholeOutcome).toEqual({ outcome: 'removed', cluster: whole, reason: `removed ${whole}` });
        expect(existsSync(whole)).toBe(false);
        expect(existsSync(path.join(wholeData, 'cluster.json'))).toBe(false);
      } finally {
        await rm(ephemeral, { recursive: true, force: true });
      }
    },
  );

  it('refuses a cluster whose back-reference names another data directory', async () => {
    const target = await cluster('aaaa', path.join(root, 'other'));
    const dataDir = await dataDirNaming('data', target);
    expect(await removeCluster(dataDir, { home })).toEqual({
      outcome: 'refused',
      cluster: target,
      reason: `its ${backReferenceFile} names ${path.join(root, 'other')}, not ${dataDir}`,
    });
    expect(existsSync(path.join(target, 'pgdata', 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'cluster.json'))).toBe(true);
  });

  it('refuses a back-reference that is a symlink (the server user owns the cluster directory)', async () => {
    const target = await cluster('aaaa');
    const dataDir = await dataDirNaming('data', target);
    const planted = path.join(root, 'planted.json');
    await writeFile(planted, JSON.stringify({ dataDir, createdAt }));
    await symlink(planted, path.join(target, backReferenceFile));
    const outcome = await removeCluster(dataDir, { home });
    expect(outcome).toEqual({
      outcome: 'refused',
      cluster: target,
      reason: `${backReferenceFile} cannot be read (ELOOP)`,
    });
    expect(existsSync(target)).toBe(true);
  });

  it('refuses a cluster outside the clusters home', async () => {
    const outside = path.join(root, 'outside', 'cccc');
    await mkdir(path.join(outside, 'pgdata'), { recursive: true });
    await writeBackReference(outside, { dataDir: path.join(root, 'data'), createdAt });
    const dataDir = await dataDirNaming('data', outside);
    expect(await removeCluster(dataDir, { home })).toEqual({
      outcome: 'refused',
      cluster: outside,
      reason: `${outside} is neither in ${home} nor a temporary bank-pg- directory`,
    });
    expect(existsSync(path.join(outside, 'pgdata'))).toBe(true);
  });

  it('refuses a symlink in the clusters home that points out of it, and does not follow it', async () => {
    const outside = path.join(root, 'outside', 'dddd');
    await mkdir(path.join(outside, 'pgdata'), { recursive: true });
    await writeBackReference(outside, { dataDir: path.join(root, 'data'), createdAt });
    await symlink(outside, path.join(home, 'dddd'));
    const dataDir = await dataDirNaming('data', path.join(home, 'dddd'));
    expect(await removeCluster(dataDir, { home })).toEqual({
      outcome: 'refused',
      cluster: path.join(home, 'dddd'),
      reason: `${path.join(home, 'dddd')} is a symlink`,
    });
    expect(existsSync(path.join(outside, 'pgdata'))).toBe(true);
    expect(existsSync(path.join(outside, backReferenceFile))).toBe(true);
  });

  it('refuses a recorded path that climbs out of the home with ..', async () => {
    const outside = path.join(root, 'outside', 'eeee');
    await mkdir(path.join(outside, 'pgdata'), { recursive: true });
    const dataDir = path.join(root, 'data');
    await mkdir(dataDir);
    await writeFile(
      path.join(dataDir, 'cluster.json'),
      JSON.stringify({ superuserPassword: 'x', pgdata: `${home}/../outside/eeee/pgdata` }),
    );
    const outcome = await removeCluster(dataDir, { home });
    expect(outcome.outcome).toBe('refused');
    expect(outcome.reason).toBe(`${outside} is neither in ${home} nor a temporary bank-pg- directory`);
    expect(existsSync(path.join(outside, 'pgdata'))).toBe(true);
  });

  it('has nothing to do without cluster.json, for a cluster inside the data directory, or for one already gone', async () => {
    const bare = path.join(root, 'bare');
    await mkdir(bare);
    const inside = path.join(root, 'inside');
    await mkdir(path.join(inside, 'pgdata'), { recursive: true });
    await writeFile(
      path.join(inside, 'cluster.json'),
      JSON.stringify({ superuserPassword: 'x', pgdata: path.join(inside, 'pgdata') }),
    );
    const gone = await dataDirNaming('gone', path.join(home, 'ffff'));
    expect(await removeCluster(bare, { home })).toEqual({
      outcome: 'nothing',
      reason: `no cluster.json in ${bare}`,
    });
    expect(await removeCluster(inside, { home })).toEqual({
      outcome: 'nothing',
      reason: 'the cluster is inside the data directory and goes with it',
    });
    expect(await removeCluster(gone, { home })).toEqual({
      outcome: 'nothing',
      cluster: path.join(home, 'ffff'),
      reason: `${path.join(home, 'ffff')} is already gone`,
    });
    expect(existsSync(path.join(inside, 'pgdata'))).toBe(true);
  });

  it('removeDataDir warns about a cluster it must leave and removes the data directory anyway', async () => {
    const target = await cluster('aaaa', path.join(root, 'other'));
    const dataDir = await dataDirNaming('data', target);
    const warnings: string[] = [];
    const outcome = await removeDataDir(dataDir, { home, warn: (line) => warnings.push(line) });
    expect(outcome.outcome).toBe('refused');
    expect(warnings).toEqual([
      `warning: left the cluster ${target}: its ${backReferenceFile} names ${path.join(root, 'other')}, not ${dataDir}`,
    ]);
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(path.join(target, 'pgdata', 'PG_VERSION'))).toBe(true);
  });

  it.runIf(isRoot())(
    'as root: a new cluster names its data directory; a running one is refused (and listed running, not pruned), a moved data directory claims it on start, and it goes once stopped',
    async () => {
      // Prepare: a real cluster in the test's clusters home
      const dataDir = path.join(root, 'data');
      const before = Date.now();
      server = await startPostgres({ dataDir, clustersHome: home });
      const clusterDir = path.dirname(server.pgdata);

      // Assess: where it is, and its back-reference (root's, 0600, naming the data directory)
      expect(path.dirname(clusterDir)).toBe(home);
      const file = statSync(path.join(clusterDir, backReferenceFile));
      expect(file.mode & 0o777).toBe(0o600);
      expect(file.uid).toBe(0);
      const read = readBackReference(clusterDir);
      expect(read.kind).toBe('ok');
      const ref = read.kind === 'ok' ? read.ref : undefined;
      expect(ref?.dataDir).toBe(dataDir);
      expect(Date.parse(ref?.createdAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(ref?.createdAt ?? '')).toBeLessThanOrEqual(Date.now());

      // Act: remove it while it runs
      const refused = await removeCluster(dataDir, { home });
      // Assess
      expect(refused).toEqual({
        outcome: 'refused',
        cluster: clusterDir,
        reason: `a PostgreSQL (pid ${server.pid}, port ${server.port}) still runs on it`,
      });
      expect(existsSync(path.join(server.pgdata, 'PG_VERSION'))).toBe(true);

      // Act: its data directory moves away while it runs: orphaned by its back-reference, but running
      const moved = path.join(root, 'moved');
      await rename(dataDir, moved);
      const lines: string[] = [];
      const pruned = await clustersCommand(['--prune'], { home, print: (l) => lines.push(l) });
      // Assess
      expect(pruned).toBe(0);
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^${path.basename(clusterDir)}  \\S+ \\S+  pid ${server.pid}  orphaned  ${dataDir} \\(gone\\)$`,
          ),
        ),
      );
      expect(lines.at(-1)).toBe(
        'pruned 0 of 0 cluster(s), freed 0 B; 1 left because PostgreSQL runs on them',
      );
      expect(existsSync(path.join(server.pgdata, 'PG_VERSION'))).toBe(true);

      // Act: stop, start again from the moved data directory
      await server.stop();
      server = await startPostgres({ dataDir: moved, clustersHome: home });
      // Assess: the same cluster, its back-reference names the moved directory, made at the same time
      expect(path.dirname(server.pgdata)).toBe(clusterDir);
      expect(readBackReference(clusterDir)).toEqual({
        kind: 'ok',
        ref: { dataDir: moved, createdAt: ref?.createdAt },
      });

      // Act: remove it while it stops
      const stopping = server.stop();
      const removed = await removeCluster(moved, { home, waitForStopMs: 30_000 });
      await stopping;
      server = undefined;
      // Assess
      expect(removed).toEqual({ outcome: 'removed', cluster: clusterDir, reason: `removed ${clusterDir}` });
      expect(existsSync(clusterDir)).toBe(false);
    },
    120_000,
  );
});

describe('the back-reference on a start or a restore (claimIfHomed)', () => {
  it('names the data directory that uses the cluster now, keeps one another data directory still uses, and touches no cluster outside the home', async () => {
    // Prepare: a cluster whose data directory moved; one made before back-references; one shared
    const moved = await cluster('aaaa', path.join(root, 'was-here'));
    const now = await dataDirNaming('now-here', moved);
    const old = await cluster('bbbb');
    const oldUser = await dataDirNaming('old-user', old);
    const shared = await cluster('cccc', path.join(root, 'first'));
    await dataDirNaming('first', shared);
    const copy = await dataDirNaming('copy', shared);
    const outside = path.join(root, 'outside', 'dddd');
    await mkdir(path.join(outside, 'pgdata'), { recursive: true });
    // Act
    await claimIfHomed(path.join(moved, 'pgdata'), now, home);
    await claimIfHomed(path.join(old, 'pgdata'), oldUser, home);
    await claimIfHomed(path.join(shared, 'pgdata'), copy, home);
    await claimIfHomed(path.join(outside, 'pgdata'), now, home);
    // Assess
    expect(readBackReference(moved)).toEqual({ kind: 'ok', ref: { dataDir: now, createdAt } });
    const adopted = readBackReference(old);
    expect(adopted).toEqual({
      kind: 'ok',
      ref: {
        dataDir: oldUser,
        createdAt: statSync(path.join(old, 'pgdata', 'PG_VERSION')).mtime.toISOString(),
      },
    });
    expect(readBackReference(shared)).toEqual({
      kind: 'ok',
      ref: { dataDir: path.join(root, 'first'), createdAt },
    });
    expect(existsSync(path.join(outside, backReferenceFile))).toBe(false);
  });
});

describe('npm run clusters', () => {
  /** The command in this process on the test's home; its lines and exit code. */
  async function run(args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await clustersCommand(args, {
      home,
      asRoot: true,
      searchRoots: [root],
      print: (l) => lines.push(l),
    });
    return { code, lines };
  }

  /** The table's rows as cells (columns are two spaces or more apart). */
  const rowsOf = (lines: string[]) =>
    lines
      .slice(
        2,
        lines.findIndex((l) => /^\d+ clusters, /.test(l)),
      )
      .map((l) => l.split(/ {2,}/));

  /**
   * Seven clusters: in use; orphaned (data directory gone); orphaned (it names another cluster);
   * unknown; claimed by a data directory found in the search though it has no back-reference;
   * moved (the back-reference's directory is gone, one found names it); a back-reference that
   * is not ours (a symlink).
   */
  async function world(): Promise<Record<string, string>> {
    const inUse = await cluster('c1-in-use', path.join(root, 'd1'));
    await dataDirNaming('d1', inUse);
    const gone = await cluster('c2-gone', path.join(root, 'removed-long-ago'));
    const repointed = await cluster('c3-repointed', path.join(root, 'd3'));
    await dataDirNaming('d3', path.join(home, 'somewhere-else'));
    const unknown = await cluster('c4-unknown');
    const claimed = await cluster('c5-claimed');
    await dataDirNaming(path.join('deep', 'd5'), claimed);
    const moved = await cluster('c6-moved', path.join(root, 'was-here'));
    await dataDirNaming('now-here', moved);
    const planted = await cluster('c7-planted');
    await writeFile(path.join(root, 'x.json'), JSON.stringify({ dataDir: '/nowhere', createdAt }));
    await symlink(path.join(root, 'x.json'), path.join(planted, backReferenceFile));
    return { inUse, gone, repointed, unknown, claimed, moved, planted };
  }

  it('lists each cluster with its size, whether it runs, whose it is, and a summary', async () => {
    // Prepare
    const c = await world();
    // Act
    const { code, lines } = await run([]);
    const listed = await listClusters({ home, searchRoots: [root] });
    // Assess
    expect(code).toBe(0);
    expect(lines.slice(0, 2)).toEqual([
      `clusters in ${home}:`,
      expect.stringMatching(/^CLUSTER +SIZE +RUNNING +STATUS +DATA DIRECTORY$/),
    ]);
    expect(rowsOf(lines).map(([id, , running, status, dataDir]) => [id, running, status, dataDir])).toEqual([
      ['c1-in-use', 'no', 'in use', path.join(root, 'd1')],
      ['c2-gone', 'no', 'orphaned', `${path.join(root, 'removed-long-ago')} (gone)`],
      ['c3-repointed', 'no', 'orphaned', `${path.join(root, 'd3')} (uses another cluster now)`],
      ['c4-unknown', 'no', 'unknown', 'unknown'],
      ['c5-claimed', 'no', 'in use', `${path.join(root, 'deep', 'd5')} (no back-reference)`],
      [
        'c6-moved',
        'no',
        'in use',
        `${path.join(root, 'now-here')} (its back-reference names ${path.join(root, 'was-here')})`,
      ],
      ['c7-planted', 'no', 'unknown', `unknown (${backReferenceFile} cannot be read (ELOOP); not pruned)`],
    ]);
    // Sizes as du counts them
    for (const entry of listed) expect(entry.bytes).toBe(du(entry.dir));
    expect(listed.map((e) => e.dir)).toEqual(Object.values(c).sort());
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^7 clusters, \d+\.\d KiB: 0 running, 3 in use \(\d+\.\d KiB\), 2 orphaned \(\d+\.\d KiB\), 2 unknown \(\d+\.\d KiB\)$/,
      ),
    );
    expect(lines).toContain('npm run clusters -- --prune removes the orphaned ones that are not running');
    expect(lines.at(-1)).toBe(
      'npm run clusters -- --prune --unknown removes those not running: only if no other data directory of yours uses them',
    );
    // Listing removes nothing
    for (const dir of Object.values(c)) expect(existsSync(path.join(dir, 'pgdata', 'PG_VERSION'))).toBe(true);
  });

  it('--prune removes the orphaned ones only; --prune --unknown also the unknown one with no back-reference', async () => {
    // Prepare
    const c = await world();
    const bytes = (dirs: string[]) => dirs.reduce((n, d) => n + du(d), 0);
    const orphansBytes = bytes([c.gone ?? '', c.repointed ?? '']);

    // Act
    const first = await run(['--prune']);
    // Assess
    expect(first.code).toBe(0);
    expect(first.lines.filter((l) => l.startsWith('removed '))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^removed c2-gone \\(\\d+\\.\\d KiB, orphaned: ${path.join(root, 'removed-long-ago')} \\(gone\\)\\)$`,
        ),
      ),
      expect.stringMatching(
        /^removed c3-repointed \(\d+\.\d KiB, orphaned: .* \(uses another cluster now\)\)$/,
      ),
    ]);
    expect(first.lines.at(-1)).toBe(
      `pruned 2 of 2 cluster(s), freed ${(orphansBytes / 1024).toFixed(1)} KiB`,
    );
    expect([c.gone, c.repointed].map((d) => existsSync(d ?? ''))).toEqual([false, false]);
    expect([c.inUse, c.unknown, c.claimed, c.moved, c.planted].map((d) => existsSync(d ?? ''))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);

    // Act
    const second = await run(['--prune', '--unknown']);
    // Assess: the unknown one goes; the one whose back-reference is not ours stays
    expect(second.code).toBe(0);
    expect(second.lines.filter((l) => l.startsWith('removed '))).toEqual([
      expect.stringMatching(/^removed c4-unknown \(\d+\.\d KiB, unknown: unknown\)$/),
    ]);
    expect(existsSync(c.unknown ?? '')).toBe(false);
    expect([c.inUse, c.claimed, c.moved, c.planted].map((d) => existsSync(d ?? ''))).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('exits 1 when a cluster to prune cannot be removed (its data directory claimed it meanwhile)', async () => {
    // Prepare: an orphan whose back-reference is rewritten between the listing and the removal
    const orphan = await cluster('c2-gone', path.join(root, 'removed-long-ago'));
    const lines: string[] = [];
    // Act
    const code = await clustersCommand(['--prune'], {
      home,
      asRoot: true,
      searchRoots: [root],
      print: (l) => {
        lines.push(l);
        // Between listing and removing: as `npm start` on a moved data directory would do
        if (/^1 clusters, /.test(l)) {
          writeFileSync(
            path.join(orphan, backReferenceFile),
            JSON.stringify({ dataDir: path.join(root, 'd9'), createdAt }),
          );
        }
      },
    });
    // Assess
    expect(code).toBe(1);
    expect(lines.slice(-2)).toEqual([
      `error: could not remove c2-gone: its ${backReferenceFile} changed meanwhile`,
      'pruned 0 of 1 cluster(s), freed 0 B; 1 could not be removed',
    ]);
    expect(existsSync(path.join(orphan, 'pgdata', 'PG_VERSION'))).toBe(true);
  });

  it.runIf(isRoot())(
    "--prune removes an orphan with its owner's rights: what the server user could not remove stays, exit 1",
    async () => {
      // Prepare
      const orphan = await cluster('c2-gone', path.join(root, 'removed-long-ago'));
      const keep = await ownedByServerUser(orphan);
      // Act
      const { code, lines } = await run(['--prune']);
      // Assess
      expect(code).toBe(1);
      expect(lines.slice(-2)).toEqual([
        expect.stringMatching(
          new RegExp(`^error: could not remove c2-gone: ${orphan} could not be removed: .*Permission denied`),
        ),
        'pruned 0 of 1 cluster(s), freed 0 B; 1 could not be removed',
      ]);
      expect(existsSync(keep)).toBe(true);
    },
  );

  it('says so when there is nothing to list: no clusters home, or not root', async () => {
    const lines: string[] = [];
    const absent = await clustersCommand([], {
      home: path.join(root, 'absent'),
      asRoot: true,
      print: (l) => lines.push(l),
    });
    await cluster('c1', path.join(root, 'gone'));
    const notRoot: string[] = [];
    const asUser = await clustersCommand(['--prune'], { home, asRoot: false, print: (l) => notRoot.push(l) });
    expect([absent, asUser]).toEqual([0, 0]);
    expect(lines).toEqual([`no clusters in ${path.join(root, 'absent')}`]);
    expect(notRoot).toEqual([
      'nothing to list: not running as root, each cluster lives inside its data directory (pgdata/) and goes with it',
    ]);
    expect(existsSync(path.join(home, 'c1', 'pgdata'))).toBe(true);
  });

  it('exits 2 on bad usage, in this process and through npm', async () => {
    await cluster('c1', path.join(root, 'gone'));
    const unknownAlone = await run(['--unknown']);
    const bogus = await run(['--bogus']);
    const positional = await run(['prune']);
    const viaNpm = npm(['run', '-s', 'clusters', '--', '--unknown'], repoRoot, {});
    const npmCode = await viaNpm.exited;
    expect([unknownAlone.code, bogus.code, positional.code, npmCode]).toEqual([2, 2, 2, 2]);
    expect(unknownAlone.lines[0]).toBe('error: --unknown goes with --prune');
    expect(bogus.lines[0]).toMatch(/^error: Unknown option '--bogus'/);
    expect(positional.lines[0]).toMatch(/^error: Unexpected argument 'prune'/);
    expect(viaNpm.output().split('\n')[0]).toBe('error: --unknown goes with --prune');
    expect(viaNpm.output()).toContain('usage: npm run clusters [-- --prune [--unknown]]');
    // Nothing was removed
    expect(existsSync(path.join(home, 'c1', 'pgdata'))).toBe(true);
    expect(readFileSync(path.join(home, 'c1', backReferenceFile), 'utf8')).toContain(path.join(root, 'gone'));
  });
});
