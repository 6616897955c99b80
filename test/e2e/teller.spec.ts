import type { Page } from '@playwright/test';
import { adminPassword, bankOf, checkPage, expect, type Json, signIn, test } from './fixtures';

/**
 * A teller: creates a customer, opens accounts, deposits, withdraws and transfers without a PIN,
 * locks an account with a reason (and sees money refused while locked) and unlocks it. Then the
 * API's state: balances and ledger to the cent, and the teller's audit trail.
 * Then maker-checker: the teller's large movements wait in the approvals inbox until a second
 * teller approves or rejects them; and the teller's desk resets a PIN and a password.
 */
test.describe.configure({ mode: 'serial' });

const teller = { username: 'tina', password: 'tina-password-1' };
const checker = { username: 'tomas', password: 'tomas-password-1' };
const customer = { username: 'carl', password: 'carl-password-1' };
let ownerId = '';
let everyday = '';
let savings = '';

test.beforeAll(async ({}, testInfo) => {
  const bank = bankOf(testInfo);
  await bank.createTeller(teller.username, teller.password);
  await bank.createTeller(checker.username, checker.password);
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
  await page.getByLabel('Username', { exact: true }).fill(customer.username);
  await page.getByRole('button', { name: 'Create' }).click();
  const created = page.getByRole('status').filter({ hasText: 'Created customer' });
  await expect(created).toBeVisible();
  ownerId = (await created.locator('.mono').textContent()) ?? '';
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
  savings = await open('Savings', '5937');
  everyday = await open('Everyday', '4826');
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

  // Lock needs a reason: without one the API's message sits next to the Reason field.
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await expect(page.getByLabel('Reason')).toHaveAccessibleDescription(/The reason /);
  await expect(page.getByText('Balance 200.00')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Locked' })).toHaveCount(0);
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
    'accounts.lock:failed',
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

/** A movement of at least the approval amount (50,000.00): it waits, and nothing moves. */
async function moveForApproval(page: Page, amount: string, memo: string, formatted: string): Promise<void> {
  await page.getByLabel('Amount').fill(amount);
  await page.getByLabel('Memo').fill(memo);
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page.getByRole('definition').filter({ hasText: formatted })).toHaveCount(1);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Waiting for approval' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('Nothing has moved yet.');
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to the bank' })).toBeVisible();
}

test('maker-checker: large movements wait in the approvals inbox for a second teller', async ({
  page,
}, testInfo) => {
  const bank = bankOf(testInfo);
  const admin = await bank.login('admin', adminPassword);
  const tinaId = String((await bank.ok('GET', '/me', await bank.login(teller.username, teller.password))).id);
  const tomasId = String(
    (await bank.ok('GET', '/me', await bank.login(checker.username, checker.password))).id,
  );
  const adminId = String((await bank.ok('GET', '/me', admin)).id);

  // Teller 1 makes three: a deposit, a withdrawal and a transfer, each of at least 50,000.00.
  await signIn(page, teller.username, teller.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
  await page.getByLabel('Owner id').fill(ownerId);
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByRole('link', { name: everyday }).click();
  await expect(page.getByText('Balance 200.00')).toBeVisible();
  await page.getByRole('link', { name: 'Deposit', exact: true }).click();
  await moveForApproval(page, '60000', 'Property sale', '60,000.00');
  await page.getByRole('link', { name: 'Open the approvals inbox' }).click();
  await expect(page.getByRole('heading', { name: 'Approvals', level: 1 })).toBeVisible();
  const article = (what: string, accountNo: string) =>
    page.getByRole('article').filter({ hasText: what }).filter({ hasText: accountNo });
  await article('Deposit of 60,000.00', everyday).getByRole('link', { name: everyday }).click();
  await expect(page.getByText('Balance 200.00')).toBeVisible(); // nothing moved
  await page.getByRole('link', { name: 'Withdraw', exact: true }).click();
  await moveForApproval(page, '55000.00', 'Car purchase', '55,000.00');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Transfer' }).click();
  await page.getByLabel('From account').fill(savings);
  await page.getByLabel('To account').fill(everyday);
  await moveForApproval(page, '55000', 'Loan repayment', '55,000.00');
  await page.getByRole('link', { name: 'Open the approvals inbox' }).click();

  // The maker sees their own as waiting for another person, with nothing to press.
  const deposit = article('Deposit of 60,000.00', everyday);
  const withdrawal = article('Withdrawal of 55,000.00', everyday);
  const transfer = article('Transfer of 55,000.00', savings);
  for (const own of [deposit, withdrawal, transfer]) {
    await expect(own).toContainText('Waiting for another person');
    await expect(own.getByRole('definition').filter({ hasText: /^you$/ })).toHaveCount(1);
    await expect(own.getByRole('button')).toHaveCount(0);
  }
  await expect(transfer.getByRole('definition').filter({ hasText: everyday })).toHaveCount(1);
  await expect(deposit.getByRole('definition').filter({ hasText: 'Property sale' })).toHaveCount(1);
  await checkPage(page, 'teller-approvals-own', testInfo);
  for (const [accountNo, balance] of [
    [everyday, '200.00'],
    [savings, '19.75'],
  ] as const) {
    expect((await bank.ok('GET', `/accounts/${accountNo}`, admin)).balance).toBe(balance);
  }

  // Teller 2 decides.
  await signOut(page);
  await signIn(page, checker.username, checker.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals' }).click();
  await expect(deposit.getByRole('button', { name: 'Approve' })).toBeVisible();
  await expect(deposit.getByRole('definition').filter({ hasText: tinaId })).toHaveCount(1);
  await checkPage(page, 'teller-approvals-pending', testInfo);
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkPage(page, 'teller-approvals-pending-dark', testInfo);
  await page.emulateMedia({ colorScheme: 'light' });

  // One that cannot execute: the savings account holds 19.75. Said next to it; it stays pending.
  await transfer.getByRole('button', { name: 'Approve' }).click();
  await expect(transfer.getByRole('alert')).toHaveText(
    'Not approved: the balance is lower than the amount. It stays pending.',
  );
  await expect(transfer).toContainText('Pending');
  await checkPage(page, 'teller-approvals-refused', testInfo);

  await deposit.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Approved:' })).toHaveText(
    `Approved: Deposit of 60,000.00 into ${everyday}. Balance after: 60,200.00.`,
  );
  await expect(deposit).toHaveCount(0);
  expect((await bank.ok('GET', `/accounts/${everyday}`, admin)).balance).toBe('60200.00');

  // Rejecting needs a reason, said next to the Reason field.
  await withdrawal.getByRole('button', { name: 'Reject' }).click();
  await expect(withdrawal.getByLabel('Reason')).toHaveAccessibleDescription(/The reason /);
  await withdrawal.getByLabel('Reason').fill('The customer cancelled it');
  await withdrawal.getByRole('button', { name: 'Reject' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Rejected:' })).toHaveText(
    `Rejected: Withdrawal of 55,000.00 from ${everyday}. Nothing moved.`,
  );
  await expect(withdrawal).toHaveCount(0);

  // Decided by someone else meanwhile (an admin, over the API): said in this screen's words.
  const pendingTransfer = (await bank.items('/approvals?status=pending&limit=100', admin)).find(
    (a) => (a.request as Json).fromAccountNo === savings,
  );
  await bank.ok('POST', `/approvals/${String(pendingTransfer?.approvalId)}/reject`, admin, {
    reason: 'Not enough money in savings',
  });
  await transfer.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Transfer of' })).toHaveText(
    `Transfer of 55,000.00 from ${savings} to ${everyday}: This approval was already decided by someone else, or it has expired.`,
  );
  await expect(transfer).toHaveCount(0);

  // The decided ones under their own status.
  await page.getByLabel('Status').selectOption({ label: 'Approved' });
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(deposit).toContainText('Approved');
  await expect(deposit.getByRole('definition').filter({ hasText: /^you$/ })).toHaveCount(1);
  await expect(deposit.getByRole('definition').filter({ hasText: '60,200.00' })).toHaveCount(1);
  await page.getByLabel('Status').selectOption({ label: 'Rejected' });
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(withdrawal).toContainText('The customer cancelled it');
  await expect(transfer).toContainText('Not enough money in savings');
  await checkPage(page, 'teller-approvals-rejected', testInfo);

  // An admin sees who made and who decided each one by name (an admin may list staff).
  await signOut(page);
  await signIn(page, 'admin', adminPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals' }).click();
  await page.getByLabel('Status').selectOption({ label: 'Rejected' });
  await page.getByRole('button', { name: 'Show' }).click();
  const names = (item: typeof transfer) =>
    item.getByRole('definition').filter({ hasText: /^(tina|tomas|you)$/ });
  await expect(names(withdrawal)).toHaveText(['tina', 'tomas']);
  await expect(names(transfer)).toHaveText(['tina', 'you']);
  await checkPage(page, 'admin-approvals-rejected', testInfo);

  // The API's state, to the cent.
  expect((await bank.ok('GET', `/accounts/${everyday}`, admin)).balance).toBe('60200.00');
  expect((await bank.ok('GET', `/accounts/${savings}`, admin)).balance).toBe('19.75');
  const history = await bank.items(`/accounts/${everyday}/history`, admin);
  expect(history.map((e) => [e.type, e.amount, e.balanceAfter, e.memo])).toEqual([
    ['DEPOSIT', '60000.00', '60200.00', 'Property sale'],
    ['TRANSFER_OUT', '19.75', '200.00', null],
    ['WITHDRAWAL', '30.25', '219.75', 'Cash out'],
    ['DEPOSIT', '250.00', '250.00', 'Cash at the counter'],
  ]);
  expect((await bank.items(`/accounts/${savings}/history`, admin)).map((e) => e.type)).toEqual([
    'TRANSFER_IN',
  ]);
  const ours = async (status: string) =>
    (await bank.items(`/approvals?status=${status}&limit=100`, admin))
      .filter((a) => a.makerId === tinaId)
      .map((a) => ({
        action: a.action,
        request: a.request,
        makerId: a.makerId,
        checkerId: a.checkerId,
        reason: a.reason,
        result: a.result === null ? null : [(a.result as Json).amount, (a.result as Json).balanceAfter],
      }));
  expect(await ours('pending')).toEqual([]);
  expect(await ours('approved')).toEqual([
    {
      action: 'accounts.deposit',
      request: { accountNo: everyday, amount: '60000.00', memo: 'Property sale' },
      makerId: tinaId,
      checkerId: tomasId,
      reason: null,
      result: ['60000.00', '60200.00'],
    },
  ]);
  expect(await ours('rejected')).toEqual([
    {
      action: 'transfers.create',
      request: { fromAccountNo: savings, toAccountNo: everyday, amount: '55000.00', memo: 'Loan repayment' },
      makerId: tinaId,
      checkerId: adminId,
      reason: 'Not enough money in savings',
      result: null,
    },
    {
      action: 'accounts.withdraw',
      request: { accountNo: everyday, amount: '55000.00', memo: 'Car purchase' },
      makerId: tinaId,
      checkerId: tomasId,
      reason: 'The customer cancelled it',
      result: null,
    },
  ]);

  // The audit trail: the maker's three were accepted as pending; the checker's decisions, in order.
  const made = (await bank.items(`/audit-logs?actor=${teller.username}&limit=100`, admin)).filter(
    (e) => (e.details as Json).approvalStatus === 'pending',
  );
  expect(made.map((e) => [e.action, e.outcome, (e.details as Json).amount])).toEqual([
    ['transfers.create', 'success', '55000.00'],
    ['accounts.withdraw', 'success', '55000.00'],
    ['accounts.deposit', 'success', '60000.00'],
  ]);
  const decisions = (await bank.items(`/audit-logs?actor=${checker.username}&limit=100`, admin))
    .filter((e) => String(e.action).startsWith('approvals.') && e.action !== 'approvals.list')
    .reverse();
  expect(decisions.map((e) => [e.action, e.outcome, (e.details as Json).code ?? null])).toEqual([
    ['approvals.approve', 'failed', 'INSUFFICIENT_FUNDS'],
    ['approvals.approve', 'success', null],
    ['approvals.reject', 'failed', 'VALIDATION_FAILED'],
    ['approvals.reject', 'success', null],
    ['approvals.approve', 'failed', 'CONFLICT'],
  ]);
  expect(decisions[3]?.details).toMatchObject({ reason: 'The customer cancelled it' });
});

test("the teller's desk: reset an account's PIN and a customer's password", async ({ page }, testInfo) => {
  const bank = bankOf(testInfo);
  const admin = await bank.login('admin', adminPassword);
  const carl = await bank.login(customer.username, customer.password);
  await signIn(page, checker.username, checker.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
  await page.getByLabel('Owner id').fill(ownerId);
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByRole('link', { name: everyday }).click();
  await expect(page.getByText('Balance 60,200.00')).toBeVisible();

  // A PIN the API refuses: its message sits next to the New PIN field.
  await expect(page.getByText('it does not unlock a locked account')).toBeVisible();
  await page.getByLabel('New PIN').fill('1234');
  await page.getByRole('button', { name: 'Reset PIN' }).click();
  await expect(page.getByLabel('New PIN')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('New PIN')).toHaveAccessibleDescription(/The new PIN /);
  await page.getByLabel('New PIN').fill('7391');
  await page.getByRole('button', { name: 'Reset PIN' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The PIN is reset' })).toBeVisible();
  await checkPage(page, 'teller-pin-reset', testInfo);
  // The customer's old PIN is wrong now, the new one works.
  const old = await bank.call('POST', `/accounts/${everyday}/deposit`, carl, { amount: '1.00', pin: '4826' });
  expect([old.status, old.body.code, old.body.attemptsRemaining]).toEqual([403, 'INVALID_PIN', 2]);
  const fresh = await bank.call('POST', `/accounts/${everyday}/deposit`, carl, {
    amount: '1.00',
    pin: '7391',
  });
  expect([fresh.status, fresh.body.type, fresh.body.amount, fresh.body.balanceAfter]).toEqual([
    200,
    'DEPOSIT',
    '1.00',
    '60201.00',
  ]);

  // A customer's password, from the search results.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
  await page.getByLabel('Username starts with').fill('car');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('button', { name: `Reset the password of ${customer.username}` }).click();
  await page.getByLabel('New password').fill('short');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByLabel('New password')).toHaveAccessibleDescription(/The new password /);
  await page.getByLabel('New password').fill('carl-password-2');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The password of carl is reset' })).toBeVisible();
  await checkPage(page, 'teller-password-reset', testInfo);
  // Every session of the customer ended; the old password is refused, the new one works.
  expect((await bank.call('GET', '/me', carl)).status).toBe(401);
  const refused = await bank.call('POST', '/auth/login', undefined, customer);
  expect([refused.status, refused.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  const carl2 = await bank.login(customer.username, 'carl-password-2');
  expect((await bank.ok('GET', '/me', carl2)).username).toBe(customer.username);

  // The API's state, to the cent, and the audit trail of the desk.
  const account = await bank.ok('GET', `/accounts/${everyday}`, admin);
  expect([account.balance, account.isLocked]).toEqual(['60201.00', false]);
  const [last] = await bank.items(`/accounts/${everyday}/history?limit=1`, admin);
  expect([last?.type, last?.amount, last?.balanceAfter]).toEqual(['DEPOSIT', '1.00', '60201.00']);
  const desk = (await bank.items(`/audit-logs?actor=${checker.username}&limit=100`, admin))
    .filter((e) => e.action === 'accounts.pin' || e.action === 'users.password')
    .reverse();
  expect(desk.map((e) => [e.action, e.outcome])).toEqual([
    ['accounts.pin', 'failed'],
    ['accounts.pin', 'success'],
    ['users.password', 'failed'],
    ['users.password', 'success'],
  ]);
  const carlEvents = (
    await bank.items(`/audit-logs?actor=${customer.username}&action=accounts.deposit`, admin)
  )
    .map((e) => [e.outcome, (e.details as Json).code ?? null])
    .reverse();
  expect(carlEvents).toEqual([
    ['denied', 'INVALID_PIN'],
    ['success', null],
  ]);
});
