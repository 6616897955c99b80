import type { Locator, Page } from '@playwright/test';
import { adminPassword, bankOf, checkPage, expect, type Json, signIn, test } from './fixtures';
import { Authenticator } from './totp';

/**
 * A customer's own credentials in Settings: a PIN change (which needs a one-time code, so first
 * the advice to enrol an authenticator; then a wrong current PIN), enrolment with the QR code's
 * secret, a new password, and turning the authenticator off with a code and the password. The
 * first part is done with the keyboard alone. Then the API's own state: the new PIN moves money
 * and the old one is refused, the old password is refused, the login needed a code while the
 * authenticator was on, and the audit trail holds each step.
 */
test.describe.configure({ mode: 'serial' });

const customer = { username: 'kim', password: 'kim-password-1' };
let accountNo = '';

test.beforeAll(async ({}, testInfo) => {
  const bank = bankOf(testInfo);
  const admin = await bank.login('admin', adminPassword);
  const user = await bank.ok('POST', '/users', admin, { ...customer, role: 'customer' });
  accountNo = String(
    (await bank.ok('POST', '/accounts', admin, { ownerId: user.id, name: 'Everyday', pin: '4826' }))
      .accountNo,
  );
  await bank.ok('POST', `/accounts/${accountNo}/deposit`, admin, { amount: '300.00' });
});

/** Presses Tab (or Shift+Tab) until `target` has the focus, at most `max` times. */
async function tabTo(page: Page, target: Locator, max: number, key = 'Tab'): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === el.ownerDocument.activeElement)) return;
    await page.keyboard.press(key);
  }
  await expect(target).toBeFocused();
}

test('customer: PIN, authenticator, password in Settings; then the API agrees', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  const bank = bankOf(testInfo);
  await signIn(page, customer.username, customer.password, true);
  await expect(page).toHaveURL(/\/console\/accounts$/);

  // To Settings with the keyboard: back from the content to the navigation.
  const settingsLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' });
  await expect(page.locator('main')).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(settingsLink).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/console\/settings$/);
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await expect(page.locator('main')).toBeFocused();

  const panel = page.getByRole('region', { name: 'Authenticator app' });
  const pinForm = page.getByRole('form', { name: "Change an account's PIN" });
  const passwordForm = page.getByRole('form', { name: 'Change your password' });
  // The account is picked from the customer's own, not typed.
  await expect(pinForm.getByLabel('Account', { exact: true })).toHaveValue(accountNo);
  await expect(pinForm.getByRole('option')).toHaveText([`Everyday ${accountNo} (300.00)`]);

  // Tab order: the authenticator's button, the password form, then the PIN form.
  await expect(panel.getByRole('button', { name: 'Enrol an authenticator' })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(panel.getByRole('button', { name: 'Enrol an authenticator' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(passwordForm.getByLabel('Current password')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(passwordForm.getByLabel('New password')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(passwordForm.getByRole('button', { name: 'Change password' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(pinForm.getByLabel('Account', { exact: true })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(pinForm.getByLabel('Current PIN')).toBeFocused();
  await page.keyboard.type('4826');
  await page.keyboard.press('Tab');
  await expect(pinForm.getByLabel('New PIN')).toBeFocused();
  await page.keyboard.type('5937');
  await page.keyboard.press('Enter');
  // A customer's PIN change needs a one-time code, and kim has no authenticator: said in words.
  const enrolFirst = pinForm.getByRole('alert');
  await expect(enrolFirst).toHaveText(
    'This needs a one-time code from an authenticator app, and you have not enrolled one yet. Enrol an authenticator in Settings first, then try again.',
  );
  await expect(pinForm.getByLabel('One-time code')).toHaveCount(0);
  await checkPage(page, 'settings-enrol-first', testInfo);
  const enrolLink = enrolFirst.getByRole('link', { name: 'Enrol an authenticator in Settings' });
  await tabTo(page, enrolLink, 4, 'Shift+Tab');
  await page.keyboard.press('Enter');
  await expect(panel).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(panel.getByRole('button', { name: 'Enrol an authenticator' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(panel.getByRole('heading', { name: 'Enrol your authenticator app' })).toBeFocused();
  await expect(panel.getByRole('img', { name: /^QR code of your new authenticator secret/ })).toHaveAttribute(
    'src',
    /^data:image\/svg\+xml;/,
  );
  const secret = ((await panel.locator('code.secret').textContent()) ?? '').replaceAll(' ', '');
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  const app = new Authenticator(secret);
  await page.keyboard.press('Tab');
  await expect(panel.getByLabel('One-time code')).toBeFocused();
  await page.keyboard.type(await app.code());
  await page.keyboard.press('Enter');
  await expect(panel.getByRole('status')).toHaveText(
    'Your authenticator is enrolled. From now on, signing in asks for a one-time code.',
  );
  await expect(panel).toBeFocused();

  // The PIN again, now with a code: a wrong current PIN first, said next to it with the attempts left.
  await pinForm.getByLabel('Current PIN').fill('1357');
  await pinForm.getByLabel('New PIN').fill('5937');
  await pinForm.getByLabel('One-time code').fill(await app.code());
  await pinForm.getByRole('button', { name: 'Change PIN' }).click();
  await expect(pinForm.getByLabel('Current PIN')).toHaveAccessibleDescription(
    'Wrong PIN. 2 attempts left before the account locks.',
  );
  await expect(pinForm.getByLabel('Current PIN')).toHaveAttribute('aria-invalid', 'true');
  // The code was used: the field is empty for the next one.
  await expect(pinForm.getByLabel('One-time code')).toHaveValue('');
  await checkPage(page, 'settings-wrong-pin', testInfo);
  await pinForm.getByLabel('Current PIN').fill('4826');
  await pinForm.getByLabel('One-time code').fill(await app.code());
  await pinForm.getByRole('button', { name: 'Change PIN' }).click();
  await expect(pinForm.getByRole('status')).toHaveText(`The PIN of account ${accountNo} is changed.`);

  // A new password: a wrong current one is said next to its field, and kim stays signed in.
  await passwordForm.getByLabel('Current password').fill('not-the-password');
  await passwordForm.getByLabel('New password').fill('kim-password-2');
  await passwordForm.getByRole('button', { name: 'Change password' }).click();
  await expect(passwordForm.getByLabel('Current password')).toHaveAccessibleDescription(
    'The current password is wrong.',
  );
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await passwordForm.getByLabel('Current password').fill(customer.password);
  await passwordForm.getByLabel('One-time code').fill(await app.code());
  await passwordForm.getByRole('button', { name: 'Change password' }).click();
  await expect(passwordForm.getByRole('status')).toHaveText(
    'Your password is changed. Your other sessions have ended.',
  );
  await checkPage(page, 'settings-customer', testInfo);

  // The API: the old password is refused; the new one needs the code while the authenticator is on.
  const oldLogin = await bank.call('POST', '/auth/login', undefined, customer);
  expect([oldLogin.status, oldLogin.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  const noCode = await bank.call('POST', '/auth/login', undefined, {
    ...customer,
    password: 'kim-password-2',
  });
  expect([noCode.status, noCode.body.code]).toEqual([401, 'OTP_REQUIRED']);

  // Turning the authenticator off takes a code and the password (still signed in after all this).
  const off = panel.getByRole('form', { name: 'Turn the authenticator off' });
  await off.getByLabel('One-time code').fill(await app.code());
  await off.getByLabel('Password', { exact: true }).fill('kim-password-2');
  await off.getByRole('button', { name: 'Turn off the authenticator' }).click();
  await expect(panel.getByRole('status')).toHaveText('The authenticator is turned off.');
  await expect(panel.getByRole('button', { name: 'Enrol an authenticator' })).toBeVisible();
  await checkPage(page, 'settings-totp-off', testInfo);

  // The new PIN moves money; the old one is refused and counts.
  const token = await bank.login(customer.username, 'kim-password-2');
  const me = await bank.ok('GET', '/me', token);
  expect([me.username, me.totpEnabled, me.disabled]).toEqual(['kim', false, false]);
  const withdrawal = await bank.call('POST', `/accounts/${accountNo}/withdraw`, token, {
    amount: '10.00',
    pin: '5937',
  });
  expect([withdrawal.status, withdrawal.body.amount, withdrawal.body.balanceAfter]).toEqual([
    200,
    '10.00',
    '290.00',
  ]);
  const oldPin = await bank.call('POST', `/accounts/${accountNo}/withdraw`, token, {
    amount: '10.00',
    pin: '4826',
  });
  expect([oldPin.status, oldPin.body.code, oldPin.body.attemptsRemaining]).toEqual([403, 'INVALID_PIN', 2]);
  const account = await bank.ok('GET', `/accounts/${accountNo}`, token);
  expect([account.balance, account.isLocked]).toEqual(['290.00', false]);
  const history = await bank.items(`/accounts/${accountNo}/history`, token);
  expect(history.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([
    ['WITHDRAWAL', '10.00', '290.00'],
    ['DEPOSIT', '300.00', '300.00'],
  ]);

  // The audit trail: each step, in order, and never the secret.
  const admin = await bank.login('admin', adminPassword);
  const events = (await bank.items('/audit-logs?actor=kim&limit=100', admin)).reverse();
  const reads = new Set(['accounts.list', 'accounts.get', 'me.get', 'accounts.history', 'auth.refresh']);
  expect(events.filter((e) => !reads.has(String(e.action))).map((e) => `${e.action}:${e.outcome}`)).toEqual([
    'auth.login:success',
    'accounts.pin:denied',
    'me.totp.enrol:success',
    'me.totp.confirm:success',
    'accounts.pin:denied',
    'accounts.pin:success',
    'me.password:denied',
    'me.password:success',
    'auth.login:denied',
    'auth.login:denied',
    'me.totp.disable:success',
    'auth.login:success',
    'accounts.withdraw:success',
    'accounts.withdraw:denied',
  ]);
  const codes = (action: string) =>
    events.filter((e) => e.action === action).map((e) => (e.details as Json).code ?? e.outcome);
  expect(codes('accounts.pin')).toEqual(['STEP_UP_REQUIRED', 'INVALID_PIN', 'success']);
  expect(events.find((e) => e.action === 'accounts.pin' && e.outcome === 'success')?.details).toEqual(
    expect.objectContaining({ accountNo }),
  );
  expect(JSON.stringify(events)).not.toContain(secret);
});
