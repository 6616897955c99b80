import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes';
import { type Gateway, startGateway } from '../../local/gateway';
import { consoleCsp, staticFiles } from '../../local/static';

/** The console and the API reference beside the API, on one origin, as CloudFront does it. */
let root: string;
let gateway: Gateway;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'console-'));
  mkdirSync(path.join(root, 'console/assets'), { recursive: true });
  mkdirSync(path.join(root, 'docs'), { recursive: true });
  writeFileSync(path.join(root, 'console/index.html'), '<!doctype html><title>console</title>');
  writeFileSync(path.join(root, 'console/assets/app-1.js'), 'console.log(1)');
  writeFileSync(path.join(root, 'docs/index.html'), '<!doctype html><title>docs</title>');
  writeFileSync(path.join(root, 'docs/docs.css'), 'body { margin: 0; }');
  writeFileSync(path.join(root, 'secret.txt'), 'outside');
  gateway = await startGateway({
    routes,
    staticFiles: staticFiles(root),
    loadHandler: async () => async () => ({ statusCode: 200, body: '{"api":true}' }),
  });
});
afterAll(async () => {
  await gateway?.close();
  rmSync(root, { recursive: true, force: true });
});

const get = (p: string, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}${p}`, { headers, redirect: 'manual' });

describe('static serving of the console', () => {
  it('redirects a browser from / to /console/, and leaves / to the API otherwise', async () => {
    const browser = await get('/', { accept: 'text/html,application/xhtml+xml' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/console/');
    const script = await get('/');
    expect(script.status).toBe(404);
    expect(script.headers.get('content-type')).toBe('application/problem+json');
  });

  it('serves client routes as index.html and assets as files, under the strict CSP', async () => {
    for (const p of ['/console/', '/console/accounts/400000000002', '/docs/']) {
      const res = await get(p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(consoleCsp);
      expect(await res.text()).toMatch(/<title>(console|docs)<\/title>/);
    }
    // The API reference: one page and its stylesheet (the build writes both), nothing else.
    const css = await get('/docs/docs.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('content-security-policy')).toBe(consoleCsp);
    expect(await css.text()).toBe('body { margin: 0; }');
    expect(await (await get('/docs/operations')).text()).toBe('<!doctype html><title>docs</title>');
    expect((await get('/docs')).headers.get('location')).toBe('/docs/');
    const asset = await get('/console/assets/app-1.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await get('/console/assets/missing.js')).status).toBe(404);
    expect((await get('/console')).headers.get('location')).toBe('/console/');
  });

  it('never serves a file outside its root', async () => {
    for (const p of ['/console/../secret.txt', '/console/%2e%2e/secret.txt', '/console/..%2fsecret.txt']) {
      const res = await get(p);
      expect(res.status, p).toBe(404);
    }
  });

  it('refuses to write, and keeps the API on its own paths', async () => {
    const post = await fetch(`${gateway.url}/console/login`, {
      method: 'POST',
      body: 'username=a&password=b',
    });
    expect(post.status).toBe(405);
    const api = await get('/health');
    expect(await api.json()).toEqual({ api: true });
  });

  it('sends the CSP that the brief requires, with nothing inline allowed', () => {
    expect(consoleCsp).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
  });
});
