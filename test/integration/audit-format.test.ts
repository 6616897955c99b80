import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { batchKey, batchPrefix } from '../../shared/audit/chain';
import { type SealWorld, sealWorld } from '../helpers/seal';

/**
 * docs/audit-format.md says how to check a batch without this code. These tests hold it to its
 * word: the hash rule recomputed from the page's words, and the page's own shell commands run
 * (with jq and sha256sum, when the machine has them) against batches the sealer wrote.
 */
const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const page = await readFile(path.join(repoRoot, 'docs/audit-format.md'), 'utf8');
const hasTools = await run('sh', ['-c', 'command -v jq && command -v sha256sum']).then(
  () => true,
  () => false,
);

function block(name: string): string {
  const open = `${'```'}sh ${name}\n`;
  const start = page.indexOf(open);
  const end = start < 0 ? -1 : page.indexOf('```', start + open.length);
  if (end < 0) throw new Error(`docs/audit-format.md has no sh ${name} block`);
  return page.slice(start + open.length, end);
}

let w: SealWorld | undefined;
let dir: string | undefined;
afterEach(async () => {
  await w?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  w = undefined;
  dir = undefined;
});

describe('docs/audit-format.md', () => {
  it('hash = sha256(prevHash "\\n" line_1 "\\n" ... line_n), computed here from the text alone', async () => {
    w = await sealWorld();
    await w.seal({ batchMax: 3 });
    const { createHash } = await import('node:crypto');
    for (const n of [1, 2, 3]) {
      const batch = JSON.parse((await w.bucket.get(batchKey(n))) ?? '{}') as {
        prevHash: string;
        hash: string;
        lines: string[];
      };
      const text = [batch.prevHash, ...batch.lines].join('\n');
      expect(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex')).toBe(batch.hash);
    }
  });

  it.runIf(hasTools)('its chain check passes on sealed batches and names a changed one', async () => {
    // Prepare: three sealed batches, and a copy of them with one line changed in batch 2
    w = await sealWorld();
    await w.seal({ batchMax: 3 });
    const batches = path.join(w.bucketDir, batchPrefix);
    dir = await mkdtemp(path.join(tmpdir(), 'bank-format-'));
    const copy = path.join(dir, 'batches');
    await mkdir(copy);
    for (const name of await readdir(batches))
      await copyFile(path.join(batches, name), path.join(copy, name));
    const second = path.join(copy, path.basename(batchKey(2)));
    const edited = JSON.parse(await readFile(second, 'utf8')) as { lines: string[] };
    edited.lines[1] = (edited.lines[1] ?? '').replace('"seq": ', '"seq": 1');
    await writeFile(second, JSON.stringify(edited));
    const [last] = await w.rows<{ h: string }>(
      'SELECT batch_hash AS h FROM seal_batches ORDER BY batch_no DESC LIMIT 1',
    );
    // Act
    const clean = await run('bash', ['-c', block('audit-check')], { env: { ...process.env, B: batches } });
    const changed = await run('bash', ['-c', block('audit-check')], { env: { ...process.env, B: copy } });
    // Assess
    expect(clean.stdout).toBe(`checked 3 batches, last hash ${last?.h}\n`);
    expect(changed.stdout).toBe(
      `000000000002.json: its lines do not match its hash\nchecked 3 batches, last hash ${last?.h}\n`,
    );
  });

  it.runIf(hasTools)('its balance check sums an account entries as the page says', async () => {
    w = await sealWorld();
    await w.seal();
    const out = await run('bash', ['-c', block('balance-check')], {
      env: { ...process.env, B: path.join(w.bucketDir, batchPrefix), A: w.accounts.a.id },
    });
    expect(out.stdout).toBe(
      `account ${w.accounts.a.id}: sealed entries sum to 7450, last sealed balance 7450\n`,
    );
  });
});
