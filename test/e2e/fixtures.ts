import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { livePostmaster, pgdataOf } from '../../local/postgres';

/**
 * Every page is watched: a Content-Security-Policy violation (the DOM event or Chromium's
 * "Refused to …" message), an uncaught exception or a console error fails the test. The one
 * console error not counted is Chromium's own note that a request got a 4xx: the tests provoke
 * refusals (wrong PIN, locked account) on purpose, and the page shows them as messages.
 */
export interface PageProblems {
  readonly csp: string[];
  readonly errors: string[];
}

const expectedHttpRefusal = /^Failed to load resource: the server responded with a status of 4\d\d/;

export const screenshotDir = path.resolve('test-results/screenshots');

export const test = base.extend<{ problems: PageProblems }>({
  problems: async ({}, use) => {
    await use({ csp: [], errors: [] });
  },
  page: async ({ page, problems }, use, testInfo) => {
    await page.exposeFunction('__reportCspViolation', (text: string) => problems.csp.push(text));
    // A file-less init script runs before the page's own, outside its CSP.
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        window.__reportCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' (' + e.sourceFile + ':' + e.lineNumber + ')');
      });`,
    });
    page.on('console', (message) => {
      const text = message.text();
      if (text.includes('Refused to')) problems.csp.push(text);
      else if (message.type() === 'error' && !expectedHttpRefusal.test(text)) problems.errors.push(text);
    });
    page.on('pageerror', (error) => problems.errors.push(`${error.name}: ${error.message}`));
    await use(page);
    testInfo.annotations.push({ type: 'csp-violations', description: String(problems.csp.length) });
    testInfo.annotations.push({ type: 'console-errors', description: String(problems.errors.length) });
    expect(problems.csp, 'Content-Security-Policy violations').toEqual([]);
    expect(problems.errors, 'console errors and uncaught exceptions').toEqual([]);
  },
});
export { expect };

/**
 * axe-core on the page as it is now (0 violations), and a screenshot kept as an artifact: of the
 * whole page, or with `{ fullPage: false }` of what the window shows (a page many screens long).
 */
export async function checkPage(
  page: Page,
  name: string,
  testInfo: TestInfo,
  { fullPage = true }: { fullPage?: boolean } = {},
): Promise<void> {
  await page.waitForLoadState('networkidle');
  const results = await new AxeBuilder({ page }).analyze();
  const violations = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  testInfo.annotations.push({
    type: 'axe',
    description: `${name}: ${results.violations.length} violations, ${results.passes.length} rules passed`,
  });
  expect(violations, `axe violations on ${name}`).toEqual([]);
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage });
}

export const adminPassword = process.env.BANK_E2E_ADMIN_PASSWORD ?? '';

/** The API, straight (no browser): the state the tests check the console's work against. */
export class Bank {
  constructor(private readonly baseURL: string) {}

  async call(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> {
    const response = await fetch(`${this.baseURL}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
  }

  async ok(method: string, path: string, token?: string, body?: unknown): Promise<Json> {
    const res = await this.call(method, path, token, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async login(username: string, password: string): Promise<string> {
    const body = await this.ok('POST', '/auth/login', undefined, { username, password });
    return String(body.accessToken);
  }

  async items(path: string, token: string): Promise<Json[]> {
    return ((await this.ok('GET', path, token)).items ?? []) as Json[];
  }

  /**
   * Staff made as the owner makes the first admin (bank_create_user), so that each spec has its
   * own users and no spec depends on another's enrolment: over the API an admin creating staff
   * needs a TOTP code (API.md step-up); admin.spec.ts does that through the console.
   */
  async createTeller(username: string, password: string): Promise<void> {
    await this.createStaff(username, password, 'teller');
  }

  async createStaff(username: string, password: string, role: 'teller' | 'admin'): Promise<void> {
    const dataDir = process.env.BANK_E2E_DATA_DIR ?? '';
    const { superuserPassword } = JSON.parse(readFileSync(path.join(dataDir, 'cluster.json'), 'utf8')) as {
      superuserPassword: string;
    };
    const port = livePostmaster(pgdataOf(dataDir))?.port;
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: superuserPassword,
      database: 'bank',
    });
    await client.connect();
    try {
      await client.query('SELECT bank_create_user($1, $2, $3)', [
        username,
        await bcrypt.hash(password, 4),
        role,
      ]);
    } finally {
      await client.end();
    }
  }
}
export type Json = Record<string, unknown> & { items?: Json[] };

export function bankOf(testInfo: TestInfo): Bank {
  const baseURL = testInfo.project.use.baseURL;
  if (!baseURL) throw new Error('no baseURL');
  return new Bank(baseURL);
}

/** Signs in through the form; `keyboard` does it with the keyboard alone. */
export async function signIn(
  page: Page,
  username: string,
  password: string,
  keyboard = false,
): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in to the bank' })).toBeVisible();
  if (keyboard) {
    await page.keyboard.press('Tab');
    await expect(page.getByLabel('Username')).toBeFocused();
    await page.keyboard.type(username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
  } else {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}
