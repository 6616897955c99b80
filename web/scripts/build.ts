import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
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

await build({
  configFile: path.join(web, 'vite.config.ts'),
  logLevel: process.argv.includes('--quiet') ? 'warn' : 'info',
});

const docs = path.join(dist, 'docs');
await rm(docs, { recursive: true, force: true });
await mkdir(docs, { recursive: true });
const swaggerUi = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
  await copyFile(path.join(swaggerUi, file), path.join(docs, file));
}
for (const file of await readdir(path.join(web, 'docs'))) {
  await copyFile(path.join(web, 'docs', file), path.join(docs, file));
}
console.log(`web console and API reference built into web/dist in ${Date.now() - started} ms`);
