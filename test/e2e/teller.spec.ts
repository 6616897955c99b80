import { adminPassword, bankOf, checkPage, expect, type Json, signIn, test } from './fixtures';

/**
 * A teller: creates a customer, opens accounts, deposits, withdraws and transfers without a PIN,
 * locks an account with a reason (and sees money refused while locked) and unlocks it. Then the
 * API's state: balances and ledger to the cent, and the teller's audit trail.
 */
const teller = { username: 'tina', password: 'tina-password-1' };

test.beforeAll(async ({}, testInfo) => {
  const bank = bankOf(testInfo);
  await bank.createTeller(teller.username, teller.password);
});

async function move(
  page: import('@playwright/test').Page,
  link: 'Deposit' | 'Withdraw',
  amount: string,
  memo: string,
): Promise<void> {
  await page.getByRole('link', { name: link, exact: true }).click();
  await expect(page.getByLabel('PIN')).toHaveCount(0); // staff act without a PIN
  await page.getByLabel('Amount').fill(amount);
  await page.getByLabel('Memo').fill(memo);
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Receipt' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the account' }).click();
}

test('teller: a new customer, two accounts, money in, out and across, lock and unlock', async ({
  page,
}, testInfo) => {
  const bank = bankOf(testInfo);
  await signIn(page, teller.username, teller.password);
  await expect(page).toHaveURL(/\/console\/customers$/);
  await checkPage(page, 'teller-customers', testInfo);

  // A username that breaks the rules: the API's message sits next to the field.
  await page.getByLabel('Username', { exact: true }).fill('Carl Smith');
  await page.getByLabel('Password').fill('carl-password-1');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByLabel('Username', { exact: true })).toHaveAccessibleDescription(
    /The username must be 3\.\.32 characters/,
  );
  await page.getByLabel('Username', { exact: true }).fill('carl');
  await page.getByRole('button', { name: 'Create' }).click();
  const created = page.getByRole('status').filter({ hasText: 'Created customer' });
  await expect(created).toBeVisible();
  const ownerId = (await created.locator('.mono').textContent()) ?? '';
  expect(ownerId).toMatch(/^[0-9a-f-]{36}$/);

  // The owner id carries over to the account form.
  await expect(page.getByLabel('Owner id')).toHaveValue(ownerId);
  const open = async (name: string, pin: string): Promise<string> => {
    await page.getByLabel('Account name').fill(name);
    await page.getByLabel('PIN').fill(pin);
    await page.getByRole('button', { name: 'Open account' }).click();
    const opened = page.getByRole('status').filter({ hasText: `(${name})` });
    await expect(opened).toBeVisible();
    return (await opened.getByRole('link').textContent()) ?? '';
  };
  const savings = await open('Savings', '5937');
  const everyday = await open('Everyday', '4826');
  expect([everyday, savings].every((n) => /^[0-9]{12}$/.test(n))).toBe(true);
  await page.getByRole('link', { name: everyday }).click();
  await expect(page.getByText('Balance 0.00')).toBeVisible();
  await move(page, 'Deposit', '250', 'Cash at the counter');
  await expect(page.getByText('Balance 250.00')).toBeVisible();
  await move(page, 'Withdraw', '30.25', 'Cash out');
  await expect(page.getByText('Balance 219.75')).toBeVisible();

  await page.getByRole('link', { name: 'Transfer', exact: true }).last().click();
  await expect(page.getByLabel('From account')).toHaveValue(everyday);
  await expect(page.getByText('Current balance: 219.75')).toBeVisible();
  await page.getByLabel('To account').fill(savings);
  await page.getByLabel('Amount').fill('19.75');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Receipt' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the account' }).click();
  await expect(page.getByText('Balance 200.00')).toBeVisible();
  await checkPage(page, 'teller-account', testInfo);

  // Lock with a reason; money is refused while locked, with the reason in the audit trail.
  await page.getByLabel('Reason').fill('Card reported stolen');
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Locked' }).first()).toBeVisible();
  await page.getByRole('link', { name: 'Deposit', exact: true }).click();
  await page.getByLabel('Amount').fill('1.00');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('alert')).toContainText('The account is locked');
  await checkPage(page, 'teller-locked-refusal', testInfo);
  // To the account through the list of the customer's accounts.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
  await page.getByLabel('Owner id').fill(ownerId);
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.getByRole('row').filter({ hasText: everyday })).toContainText('Locked');
  await expect(page.getByRole('row').filter({ hasText: savings })).toContainText('19.75');
  await checkPage(page, 'teller-accounts', testInfo);
  await page.getByRole('link', { name: everyday }).click();
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The account is unlocked.' })).toBeVisible();

  // The API's state, to the cent.
  const token = await bank.login(teller.username, teller.password);
  const a = await bank.ok('GET', `/accounts/${everyday}`, token);
  expect([a.balance, a.isLocked, a.ownerId]).toEqual(['200.00', false, ownerId]);
  expect((await bank.ok('GET', `/accounts/${savings}`, token)).balance).toBe('19.75');
  const history = await bank.items(`/accounts/${everyday}/history`, token);
  expect(history.map((e) => [e.type, e.amount, e.balanceAfter, e.memo])).toEqual([
    ['TRANSFER_OUT', '19.75', '200.00', null],
    ['WITHDRAWAL', '30.25', '219.75', 'Cash out'],
    ['DEPOSIT', '250.00', '250.00', 'Cash at the counter'],
  ]);
  const admin = await bank.login('admin', adminPassword);
  const events = await bank.items(`/audit-logs?actor=${teller.username}&limit=100`, admin);
  const seen = events.map((e: Json) => `${e.action}:${e.outcome}`);
  for (const expected of [
    'auth.login:success',
    'users.create:failed',
    'users.create:success',
    'accounts.create:success',
    'accounts.deposit:success',
    'accounts.withdraw:success',
    'transfers.create:success',
    'accounts.lock:success',
    'accounts.deposit:denied',
    'accounts.unlock:success',
  ]) {
    expect(seen).toContain(expected);
  }
  const lock = events.find((e) => e.action === 'accounts.lock');
  expect(JSON.stringify(lock?.details)).toContain('Card reported stolen');
  expect(seen.filter((s) => s === 'accounts.deposit:success')).toHaveLength(1);
});
