import type { Request } from '@playwright/test';
import { adminPassword, bankOf, checkPage, expect, signIn, test } from './fixtures';

/**
 * The console's session rules, as an attacker with the browser's storage or a user who walks away
 * would meet them: the token is in memory only (no storage, no cookie, gone on reload), forms post,
 * the token is refreshed while the user is active, and signing out ends the session on the server
 * so that neither the first token nor the refreshed one works after it.
 */
test.describe.configure({ mode: 'serial' });

const customer = { username: 'sasha', password: 'sasha-password-1' };
let spending = '';
let saving = '';

test.beforeAll(async ({}, testInfo) => {
  const bank = bankOf(testInfo);
  const admin = await bank.login('admin', adminPassword);
  const user = await bank.ok('POST', '/users', admin, { ...customer, role: 'customer' });
  const open = async (name: string) =>
    String((await bank.ok('POST', '/accounts', admin, { ownerId: user.id, name, pin: '2580' })).accountNo);
  spending = await open('Spending');
  saving = await open('Saving');
  await bank.ok('POST', `/accounts/${spending}/deposit`, admin, { amount: '100.00' });
});

function bearer(request: Request): string | undefined {
  return /^Bearer (.+)$/.exec(request.headers().authorization ?? '')?.[1];
}

test('session: the token lives in memory only, and every form posts', async ({ page, context }, testInfo) => {
  const tokens: string[] = [];
  page.on('request', (request) => {
    const token = bearer(request);
    if (token && !tokens.includes(token)) tokens.push(token);
  });
  await signIn(page, customer.username, customer.password);
  await expect(page.getByRole('heading', { name: 'Your accounts' })).toBeVisible();
  expect(tokens).toHaveLength(1);
  const [token] = tokens;
  // Evaluated in the page (the tests' own TypeScript has no DOM library).
  const stored = await page.evaluate(
    '({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })',
  );
  expect(stored).toEqual({ local: 0, session: 0, cookie: '' });
  expect(await context.cookies()).toEqual([]);
  const html = await page.content();
  expect(token && html.includes(token)).toBe(false);

  // Every form on the signed-in screens posts, so a page whose script failed never puts a
  // password or PIN in a URL.
  const methods: Array<string | null> = [];
  for (const [link, heading] of [
    ['Accounts', 'Your accounts'],
    ['Transfer', 'Transfer'],
    ['Settings', 'Settings'],
  ] as const) {
    await page.getByRole('link', { name: link, exact: true }).click();
    // The screen is there (Settings loads lazily), and so are its forms.
    await expect(page.getByRole('heading', { level: 1, name: heading, exact: true })).toBeVisible();
    await page.waitForLoadState('networkidle');
    methods.push(
      ...(await page.locator('form').evaluateAll((forms) => forms.map((f) => f.getAttribute('method')))),
    );
  }
  // The transfer form and the settings forms, at least.
  expect(methods.length).toBeGreaterThanOrEqual(3);
  expect(methods.filter((m) => m !== 'post')).toEqual([]);

  // A reload forgets the token: the console asks to sign in again.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Sign in to the bank' })).toBeVisible();
  await checkPage(page, 'sign-in-after-reload', testInfo);
});

test('session: refreshed while active; sign-out ends it on the server', async ({ page }, testInfo) => {
  const bank = bankOf(testInfo);
  const tokens: string[] = [];
  page.on('request', (request) => {
    const token = bearer(request);
    if (token && !tokens.includes(token)) tokens.push(token);
  });
  await page.clock.install();
  await signIn(page, customer.username, customer.password);
  await expect(page.getByRole('heading', { name: 'Your accounts' })).toBeVisible();

  // Eleven minutes of a user at work: a key press a minute. The token (15 minutes) is refreshed
  // once less than five minutes are left.
  const refreshed = page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/refresh');
  for (let minute = 0; minute < 11; minute++) {
    await page.keyboard.press('Shift');
    await page.clock.runFor(60_000);
  }
  const response = await refreshed;
  expect(response.status()).toBe(200);
  const next = ((await response.json()) as { accessToken?: string }).accessToken ?? '';
  expect(next).not.toBe('');
  expect(tokens[0]).not.toBe(next);
  // The console uses the new token from then on.
  await page.getByRole('link', { name: 'Transfer', exact: true }).click();
  await expect.poll(() => tokens.at(-1)).toBe(next);
  expect((await bank.call('GET', '/me', next)).status).toBe(200);
  // No warning was shown to a user who was at work.
  await expect(page.getByRole('alertdialog')).toHaveCount(0);

  const loggedOut = page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/logout');
  await page.getByRole('button', { name: 'Sign out' }).click();
  expect((await loggedOut).status()).toBe(204);
  await expect(page.getByRole('status')).toHaveText('You signed out.');
  // Both tokens of the session are refused at once, before their expiry.
  for (const token of tokens) {
    const me = await bank.call('GET', '/me', token);
    expect([me.status, me.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  }
});

test('session: the next person to sign in starts on their own first screen, not the last one', async ({
  page,
}, testInfo) => {
  const bank = bankOf(testInfo);
  await bank.createTeller('stella', 'stella-password-1');
  await signIn(page, 'admin', adminPassword);
  await page.getByRole('navigation').getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to the bank' })).toBeVisible();
  // A teller at the same browser: the teller's desk, not the admin's audit log.
  await signIn(page, 'stella', 'stella-password-1');
  await expect(page).toHaveURL(/\/console\/customers$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
  // An admin's screen asked for by its address sends a teller to the teller's first screen.
  await page.goto('/console/users');
  await expect(page.getByRole('heading', { name: 'Sign in to the bank' })).toBeVisible();
  await page.getByLabel('Username').fill('stella');
  await page.getByLabel('Password').fill('stella-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/console\/customers$/);
  // A customer asked for a screen of theirs before signing in: they get it.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto('/console/transfer');
  await page.getByLabel('Username').fill(customer.username);
  await page.getByLabel('Password').fill(customer.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/console\/transfer$/);
});

test('session: after a transfer no screen shows the old balance, even while the new one loads', async ({
  page,
}) => {
  await signIn(page, customer.username, customer.password);
  const spendingRow = page.getByRole('row').filter({ hasText: spending });
  await expect(spendingRow).toContainText('100.00');
  await page.getByRole('link', { name: 'Transfer', exact: true }).click();
  await page.getByLabel('From account').selectOption(spending);
  await page.getByLabel('To account').fill(saving);
  await page.getByLabel('Amount').fill('10.00');
  await page.getByLabel('PIN').fill('2580');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Receipt' })).toBeVisible();
  // The list of accounts answers slowly: until it does, the screen says it is loading, and the
  // 100.00 it showed before the transfer is not shown again.
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route(
    (url) => url.pathname === '/accounts',
    async (route) => {
      await held;
      await route.continue();
    },
  );
  await page.getByRole('link', { name: 'Accounts', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Your accounts' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Loading' })).toBeVisible();
  await expect(page.getByText('100.00')).toHaveCount(0);
  release();
  await expect(spendingRow).toContainText('90.00');
  await expect(page.getByRole('row').filter({ hasText: saving })).toContainText('10.00');
});
