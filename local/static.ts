import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleCsp } from '../web/csp';

/**
 * The web console and the API reference, as CloudFront serves them in the cloud: `/console/*`
 * and `/docs` from the built files (`npm run build:web` writes web/dist), paths without an
 * extension under /console/ answered with the console's index.html (client-side routes), and
 * `/` redirected to the console for a browser. Everything else is the API's.
 */

export { consoleCsp };

export const defaultWebRoot = fileURLToPath(new URL('../web/dist/', import.meta.url));

const types: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Headers on every static response (the CloudFront response headers policy sends the same). */
function securityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', consoleCsp);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('strict-transport-security', 'max-age=63072000; includeSubDomains');
}

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * Returns a handler that answers the requests it owns (and returns true) and leaves every other
 * request to the API (returns false).
 */
export function staticFiles(root: string = defaultWebRoot): StaticHandler {
  const base = path.resolve(root);
  return async (req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    const query = queryAt === -1 ? '' : url.slice(queryAt);

    if (pathname === '/' && (method === 'GET' || method === 'HEAD')) {
      // Only a browser asks for HTML; a script probing `/` gets the API's own 404.
      if (!(req.headers.accept ?? '').includes('text/html')) return false;
      res.writeHead(302, { location: '/console/', 'content-length': 0 });
      res.end();
      return true;
    }
    const owned =
      pathname === '/console' ||
      pathname.startsWith('/console/') ||
      pathname === '/docs' ||
      pathname.startsWith('/docs/');
    if (!owned) return false;
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return true;
    }
    if (pathname === '/console' || pathname === '/docs') {
      res.writeHead(301, { location: `${pathname}/${query}`, 'content-length': 0 });
      res.end();
      return true;
    }

    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return notFound(res);
    }
    // The CloudFront Function's rule: no extension → the section's index.html.
    const section = decoded.startsWith('/console/') ? 'console' : 'docs';
    const sectionDir = path.join(base, section);
    const hasExtension = path.posix.extname(decoded) !== '';
    const relative = hasExtension ? decoded.slice(section.length + 2) : 'index.html';
    const file = path.resolve(sectionDir, relative);
    // Within its own section only, whatever `..` or encoded separators the path held.
    if (!file.startsWith(sectionDir + path.sep)) return notFound(res);
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) return notFound(res);
      size = info.size;
    } catch {
      if (!hasExtension) return unbuilt(res);
      return notFound(res);
    }
    securityHeaders(res);
    const type = types[path.extname(file)] ?? 'application/octet-stream';
    // Hashed asset names never change; index.html always revalidates.
    const immutable = /^assets\//.test(relative);
    res.writeHead(200, {
      'content-type': type,
      'content-length': size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(file);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      stream.on('end', () => resolve());
      stream.pipe(res);
    });
    return true;
  };
}

function notFound(res: ServerResponse): true {
  securityHeaders(res);
  const body = 'Not found\n';
  res.writeHead(404, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
  return true;
}

function unbuilt(res: ServerResponse): true {
  securityHeaders(res);
  const body = 'The web console is not built: run `npm run build:web` (npm start does it).\n';
  res.writeHead(503, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
  return true;
}
