import { adminPassword, bankOf, checkPage, expect, type Json, signIn, test } from './fixtures';

/**
 * A customer: sees their accounts, reads an account's history and chart, transfers with a review
 * step, PIN and a receipt, and is told what went wrong next to the field it concerns. Then the
 * API's own state is checked to the cent.
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
