import { copyFile, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * `npm run build:web` (npm start runs it first): the console into web/dist/console and the API
 * reference (Swagger UI's static files and our own page) into web/dist/docs. Both are served as
 * they are: locally by local/static.ts, in the cloud from S3 through CloudFront.
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
  const swaggerUi = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    await copyFile(path.join(swaggerUi, file), path.join(docs, file));
  }
  for (const file of await readdir(path.join(web, 'docs'))) {
    await copyFile(path.join(web, 'docs', file), path.join(docs, file));
  }
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
