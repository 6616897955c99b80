import type { Page } from '@playwright/test';
import { adminPassword, bankOf, checkPage, expect, type Json, signIn, test } from './fixtures';
import { Authenticator } from './totp';

/**
 * A customer: sees their accounts, reads an account's history and chart, transfers with a review
 * step, PIN and a receipt, and is told what went wrong next to the field it concerns. Then the
 * API's own state is checked to the cent. A second customer with an authenticator app: a large
 * movement asks for a one-time code, and the daily debit limit says what is left.
 */
test.describe.configure({ mode: 'serial' });

const customer = { username: 'cora', password: 'cora-password-1' };
let main = '';
let savings = '';

test.beforeAll(async ({}, testInfo) => {
  const bank = bankOf(testInfo);
  const admin = await bank.login('admin', adminPassword);
  const user = await bank.ok('POST', '/users', admin, { ...customer, role: 'customer' });
  main = String(
    (await bank.ok('POST', '/accounts', admin, { ownerId: user.id, name: 'Main', pin: '4826' })).accountNo,
  );
  savings = String(
    (await bank.ok('POST', '/accounts', admin, { ownerId: user.id, name: 'Savings', pin: '5937' })).accountNo,
  );
  await bank.ok('POST', `/accounts/${main}/deposit`, admin, { amount: '500.00', memo: 'Opening deposit' });
});

test('customer: accounts, history and chart, a transfer with review, PIN and receipt', async ({
  page,
}, testInfo) => {
  const bank = bankOf(testInfo);
  await signIn(page, customer.username, customer.password, true);
  await expect(page).toHaveURL(/\/console\/accounts$/);
  const rows = page.getByRole('row');
  await expect(rows.filter({ hasText: main })).toContainText('500.00');
  await expect(rows.filter({ hasText: savings })).toContainText('0.00');
  await checkPage(page, 'customer-accounts', testInfo);

  await page.getByRole('link', { name: main }).click();
  await expect(page.getByRole('heading', { name: /Main/ })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Balance over time' })).toBeVisible();
  await expect(page.getByRole('table').getByRole('row')).toHaveCount(2);
  await checkPage(page, 'customer-account', testInfo);

  await page.getByRole('link', { name: 'Transfer' }).last().click();
  await expect(page.getByRole('heading', { name: 'Transfer' })).toBeVisible();
  await expect(page.getByLabel('From account')).toHaveValue(main);
  await page.getByLabel('To account').fill(savings);
  // An amount the API refuses: its message appears next to the Amount field.
  await page.getByLabel('Amount').fill('12.345');
  await page.getByLabel('PIN').fill('4826');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  const amount = page.getByLabel('Amount');
  await expect(amount).toHaveAttribute('aria-invalid', 'true');
  await expect(amount).toHaveAccessibleDescription(/The amount must be a decimal string/);
  await checkPage(page, 'customer-transfer-error', testInfo);

  // A wrong PIN: the message sits by the PIN field and says how many attempts are left.
  await amount.fill('120.50');
  await expect(page.getByText('Current balance: 500.00')).toBeVisible();
  await expect(page.getByText('after this: 379.50')).toBeVisible();
  await page.getByLabel('Memo').fill('Rent share');
  await page.getByLabel('PIN').fill('9137');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByLabel('PIN')).toHaveAccessibleDescription(/Wrong PIN\. 2 attempts left/);

  await page.getByLabel('PIN').fill('4826');
  await page.getByRole('button', { name: 'Review' }).click();
  const review = page.getByRole('definition');
  await expect(review.filter({ hasText: '120.50' })).toHaveCount(1);
  await expect(review.filter({ hasText: '379.50' })).toHaveCount(1);
  await checkPage(page, 'customer-transfer-review', testInfo);
  // A double click sends one transfer (the button disables, and both carry one Idempotency-Key).
  await page.getByRole('button', { name: 'Confirm' }).dblclick();
  await expect(page.getByRole('heading', { name: 'Receipt' })).toBeVisible();
  await expect(page.getByRole('definition').filter({ hasText: '379.50' })).toHaveCount(1);
  await checkPage(page, 'customer-receipt', testInfo);
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('button', { name: 'Print receipt' })).toBeHidden();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();
  await page.screenshot({ path: 'test-results/screenshots/customer-receipt-print.png', fullPage: true });
  await page.emulateMedia({ media: 'screen' });

  // The API's state, to the cent.
  const token = await bank.login(customer.username, customer.password);
  expect((await bank.ok('GET', `/accounts/${main}`, token)).balance).toBe('379.50');
  expect((await bank.ok('GET', `/accounts/${savings}`, token)).balance).toBe('120.50');
  const history = await bank.items(`/accounts/${main}/history`, token);
  expect(history.map((e) => [e.type, e.amount, e.balanceAfter, e.counterpartyAccountNo, e.memo])).toEqual([
    ['TRANSFER_OUT', '120.50', '379.50', savings, 'Rent share'],
    ['DEPOSIT', '500.00', '500.00', null, 'Opening deposit'],
  ]);
  const incoming = await bank.items(`/accounts/${savings}/history`, token);
  expect(incoming.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([
    ['TRANSFER_IN', '120.50', '120.50'],
  ]);
  // The audit trail: the refused attempts and exactly one transfer.
  const admin = await bank.login('admin', adminPassword);
  const events = await bank.items(
    `/audit-logs?actor=${customer.username}&action=transfers.create&limit=100`,
    admin,
  );
  const moved = events.filter(
    (e: Json) => e.outcome === 'success' && (e.details as Json).idempotencyKeyReplay === undefined,
  );
  expect(moved).toHaveLength(1);
  expect(events.filter((e) => e.outcome === 'denied')).toHaveLength(1); // the wrong PIN
  expect(events.filter((e) => e.outcome === 'failed')).toHaveLength(1); // the amount with 3 decimals
  // A correct PIN reset the wrong-PIN count: the account is open.
  expect((await bank.ok('GET', `/accounts/${main}`, token)).isLocked).toBe(false);
});

test('customer: warned after 14 idle minutes, signed out after 15', async ({ page }, testInfo) => {
  await page.clock.install();
  await signIn(page, customer.username, customer.password);
  await page.clock.runFor(14 * 60_000 + 10_000);
  const warning = page.getByRole('alertdialog');
  await expect(warning).toContainText('You will be signed out in');
  await checkPage(page, 'idle-warning', testInfo);
  await page.clock.runFor(70_000);
  await expect(page.getByRole('heading', { name: 'Sign in to the bank' })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('You were signed out after 15 idle minutes.');
  // The token went with the session: nothing signed-in is reachable.
  await page.goto('/console/accounts');
  await expect(page.getByRole('heading', { name: 'Sign in to the bank' })).toBeVisible();
});

test('customer: a deposit with the keyboard alone', async ({ page }, testInfo) => {
  const bank = bankOf(testInfo);
  const before = String(
    (await bank.ok('GET', `/accounts/${savings}`, await bank.login(customer.username, customer.password)))
      .balance,
  );
  const cents = (decimal: string) => BigInt(decimal.replace('.', ''));
  await signIn(page, customer.username, customer.password, true);
  await expect(page.getByRole('link', { name: savings })).toBeVisible();
  // The screen's content has the focus after each navigation; Tab walks on from there.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: savings })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: /Savings/ })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Deposit', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Deposit' })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('To account')).toBeFocused();
  await expect(page.getByLabel('To account')).toHaveValue(savings);
  await page.keyboard.press('Tab');
  await page.keyboard.type('5');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Coins');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('PIN')).toBeFocused();
  await page.keyboard.type('5937');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Deposit: review' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Confirm' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Receipt' })).toBeFocused();
  const token = await bank.login(customer.username, customer.password);
  const after = cents(String((await bank.ok('GET', `/accounts/${savings}`, token)).balance));
  expect(after - cents(before)).toBe(500n);
  const [last] = await bank.items(`/accounts/${savings}/history?limit=1`, token);
  expect([last?.type, last?.amount, last?.memo]).toEqual(['DEPOSIT', '5.00', 'Coins']);
});

/** Signs in through the form, with the one-time code the sign-in asks for once TOTP is on. */
async function signInWithCode(page: Page, username: string, password: string, auth: Authenticator) {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('One-time code').fill(await auth.code());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

test('customer with an authenticator: a large transfer asks for the one-time code; the daily limit says what is left', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  // The daily debit limit is per UTC day: start clear of midnight, so both movements share a day.
  const msToMidnight = 86_400_000 - (Date.now() % 86_400_000);
  if (msToMidnight < 180_000) await page.waitForTimeout(msToMidnight + 1_000);

  const bank = bankOf(testInfo);
  const admin = await bank.login('admin', adminPassword);
  const cleo = { username: 'cleo', password: 'cleo-password-1' };
  const user = await bank.ok('POST', '/users', admin, { ...cleo, role: 'customer' });
  const main = String(
    (await bank.ok('POST', '/accounts', admin, { ownerId: user.id, name: 'Main', pin: '4826' })).accountNo,
  );
  const savings = String(
    (await bank.ok('POST', '/accounts', admin, { ownerId: user.id, name: 'Savings', pin: '5937' })).accountNo,
  );
  await bank.ok('POST', `/accounts/${main}/deposit`, admin, { amount: '6000.00', memo: 'Opening deposit' });
  // Enrolment over the API (the console's enrolment screen is tested on its own).
  const token = await bank.login(cleo.username, cleo.password);
  const enrolment = await bank.ok('POST', '/me/totp', token, {});
  const auth = new Authenticator(String(enrolment.secret));
  expect((await bank.ok('POST', '/me/totp/confirm', token, { otp: await auth.code() })).totpEnabled).toBe(
    true,
  );

  // What the console sends: one Idempotency-Key per request, the one-time code left out (as the API
  // leaves it out), so the resubmission with a code keeps the key the refusal gave back.
  const sent: Array<{ path: string; key: string | undefined; body: Json }> = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() === 'POST' && (path === '/transfers' || path.endsWith('/withdraw'))) {
      sent.push({ path, key: request.headers()['idempotency-key'], body: request.postDataJSON() as Json });
    }
  });

  await signInWithCode(page, cleo.username, cleo.password, auth);
  await page.getByRole('link', { name: main }).click();
  await page.getByRole('link', { name: 'Transfer' }).last().click();
  await expect(page.getByLabel('From account')).toHaveValue(main);
  await page.getByLabel('To account').fill(savings);
  await page.getByLabel('Amount').fill('1200');
  await page.getByLabel('PIN').fill('4826');
  await expect(page.getByLabel('One-time code')).toHaveCount(0);
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  // Refused for want of a code: the form asks for one, next to its field.
  const code = page.getByLabel('One-time code');
  await expect(code).toHaveAccessibleDescription(/Enter the one-time code from your authenticator app\./);
  await expect(page.getByRole('alert')).toContainText(
    'This needs a one-time code from your authenticator app.',
  );
  await expect(page.getByLabel('Amount')).toHaveValue('1200');
  await checkPage(page, 'customer-step-up', testInfo);
  await code.fill(await auth.code());
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page.getByRole('definition').filter({ hasText: '1,200.00' })).toHaveCount(1);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Receipt' })).toBeVisible();
  await expect(page.getByRole('definition').filter({ hasText: '4,800.00' })).toHaveCount(1);
  expect((await bank.ok('GET', `/accounts/${main}`, token)).balance).toBe('4800.00');
  expect((await bank.ok('GET', `/accounts/${savings}`, token)).balance).toBe('1200.00');

  // A withdrawal over what is left of today's 5,000.00: said next to Amount, with the amount left.
  await page.getByRole('link', { name: 'Back to the account' }).click();
  await page.getByRole('link', { name: 'Withdraw', exact: true }).click();
  await page.getByLabel('Amount').fill('4000.00');
  await page.getByLabel('PIN').fill('4826');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByLabel('One-time code').fill(await auth.code());
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  const amount = page.getByLabel('Amount');
  await expect(amount).toHaveAttribute('aria-invalid', 'true');
  await expect(amount).toHaveAccessibleDescription(
    'For example 125.50 This is over the daily limit for this account: 3,800.00 is left for today.',
  );
  // The code was spent on that request: the field is empty for a fresh one.
  await expect(page.getByLabel('One-time code')).toHaveValue('');
  await checkPage(page, 'customer-limit-exceeded', testInfo);

  expect(sent.map((r) => [r.path, r.body.otp !== undefined])).toEqual([
    ['/transfers', false],
    ['/transfers', true],
    [`/accounts/${main}/withdraw`, false],
    [`/accounts/${main}/withdraw`, true],
  ]);
  const keys = sent.map((r) => r.key ?? '');
  expect(keys.every((k) => /^[0-9a-f-]{36}$/.test(k))).toBe(true);
  expect([keys[1] === keys[0], keys[3] === keys[2], keys[2] === keys[0]]).toEqual([true, true, false]);

  // The API's state, to the cent, and the audit trail.
  expect((await bank.ok('GET', `/accounts/${main}`, token)).balance).toBe('4800.00');
  expect((await bank.ok('GET', `/accounts/${savings}`, token)).balance).toBe('1200.00');
  const history = await bank.items(`/accounts/${main}/history`, token);
  expect(history.map((e) => [e.type, e.amount, e.balanceAfter, e.counterpartyAccountNo])).toEqual([
    ['TRANSFER_OUT', '1200.00', '4800.00', savings],
    ['DEPOSIT', '6000.00', '6000.00', null],
  ]);
  const moves = (await bank.items(`/audit-logs?actor=${cleo.username}&limit=100`, admin))
    .filter((e) => e.action === 'transfers.create' || e.action === 'accounts.withdraw')
    .reverse();
  expect(moves.map((e) => [e.action, e.outcome, (e.details as Json).code ?? null])).toEqual([
    ['transfers.create', 'denied', 'STEP_UP_REQUIRED'],
    ['transfers.create', 'success', null],
    ['accounts.withdraw', 'denied', 'STEP_UP_REQUIRED'],
    ['accounts.withdraw', 'failed', 'LIMIT_EXCEEDED'],
  ]);
});

test('customer without an authenticator: a large movement says to enrol one first', async ({
  page,
}, testInfo) => {
  const bank = bankOf(testInfo);
  const token = await bank.login(customer.username, customer.password);
  const before = (await bank.ok('GET', `/accounts/${main}`, token)).balance;
  await signIn(page, customer.username, customer.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Transfer' }).click();
  await page.getByLabel('From account').selectOption(main);
  await page.getByLabel('To account').fill(savings);
  await page.getByLabel('Amount').fill('1000.00');
  await page.getByLabel('PIN').fill('4826');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'A movement of this size needs a one-time code from an authenticator app, and you have not enrolled one yet.',
  );
  await expect(page.getByText('Enrol an authenticator app in Settings first')).toBeVisible();
  await expect(page.getByLabel('One-time code')).toHaveCount(0);
  await checkPage(page, 'customer-enrol-first', testInfo);
  await page.getByRole('link', { name: 'Settings' }).last().click();
  await expect(page).toHaveURL(/\/console\/settings$/);
  // Nothing moved; the refusal is in the audit trail.
  expect((await bank.ok('GET', `/accounts/${main}`, token)).balance).toBe(before);
  const admin = await bank.login('admin', adminPassword);
  const [last] = await bank.items(
    `/audit-logs?actor=${customer.username}&action=transfers.create&limit=1`,
    admin,
  );
  expect([last?.outcome, (last?.details as Json | undefined)?.code]).toEqual(['denied', 'STEP_UP_REQUIRED']);
});
