import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { outputKeys } from '../bank-stack';

/**
 * `npm run deploy` ends here: uploads the built console and API reference (web/dist, which
 * `npm run build:web` writes) to the console bucket named in cdk.outputs.json. Hashed assets are
 * cached for a year; index pages revalidate, so a new deploy is live at once.
 *
 *   BANK_STACK_NAME    stack in cdk.outputs.json (default: the only one there)
 *   BANK_OUTPUTS_FILE  outputs file (default: ./cdk.outputs.json)
 */
const types: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

const root = path.resolve('web/dist');
const file = path.resolve(process.env.BANK_OUTPUTS_FILE ?? 'cdk.outputs.json');
if (!existsSync(file)) throw new Error(`${file} not found: deploy first (npm run deploy writes it)`);
if (!existsSync(path.join(root, 'console/index.html')))
  throw new Error('web/dist is empty: run npm run build:web');
const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
const candidates = Object.keys(all).filter((name) => all[name]?.[outputKeys.consoleBucketName]);
const stackName = process.env.BANK_STACK_NAME ?? (candidates.length === 1 ? candidates[0] : undefined);
const bucket = stackName ? all[stackName]?.[outputKeys.consoleBucketName] : undefined;
if (!bucket)
  throw new Error(`set BANK_STACK_NAME to one of: ${candidates.join(', ') || '(none with a console)'}`);

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else yield full;
  }
}

const s3 = new S3Client({});
let count = 0;
// Assets first, index pages last: a reader never gets a page whose assets are not there yet.
const allFiles: string[] = [];
for await (const f of files(root)) allFiles.push(f);
allFiles.sort((a, b) => Number(a.endsWith('.html')) - Number(b.endsWith('.html')));
for (const full of allFiles) {
  const key = path.relative(root, full).split(path.sep).join('/');
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: await readFile(full),
      ContentType: types[path.extname(full)] ?? 'application/octet-stream',
      CacheControl: key.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    }),
  );
  count += 1;
}
console.log(`uploaded ${count} files to s3://${bucket} (${stackName})`);
