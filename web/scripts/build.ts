import { copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { buildOpenApiDocument } from '../../shared/openapi';
import { renderReference } from './reference';

/**
 * `npm run build:web` (npm start runs it first): the console into web/dist/console and the API
 * reference into web/dist/docs: one HTML page generated from the OpenAPI document
 * (web/scripts/reference.ts) and its stylesheet (web/docs/docs.css), no script. Both are served
 * as they are: locally by local/static.ts, in the cloud from S3 through CloudFront.
 */
const web = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(web, 'dist');
const started = Date.now();

// Built into a directory of its own, then swapped into place: several `npm start`s (tests run
// them side by side) may build at once, and none may serve, or remove, another's half-written files.
const staging = await mkdtemp(path.join(web, '.dist-'));
try {
  await build({
    configFile: path.join(web, 'vite.config.ts'),
    logLevel: process.argv.includes('--quiet') ? 'warn' : 'info',
    build: { outDir: path.join(staging, 'console'), emptyOutDir: true },
  });
  const docs = path.join(staging, 'docs');
  await mkdir(docs, { recursive: true });
  for (const file of await readdir(path.join(web, 'docs'))) {
    await copyFile(path.join(web, 'docs', file), path.join(docs, file));
  }
  await writeFile(path.join(docs, 'index.html'), renderReference(buildOpenApiDocument()));
  const old = `${staging}.old`;
  await rename(dist, old).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(staging, dist).catch((error: NodeJS.ErrnoException) => {
    // Another build put its (identical) output in place between the two renames: keep that one.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
  await rm(old, { recursive: true, force: true });
} finally {
  await rm(staging, { recursive: true, force: true });
}
console.log(`web console and API reference built into web/dist in ${Date.now() - started} ms`);
