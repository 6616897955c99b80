import { readFile } from 'node:fs/promises';
import { adminPassword, bankOf, checkPage, expect, type Json, signIn, test } from './fixtures';
import { Authenticator } from './totp';

/**
 * An admin: creates users of each role, reads the audit log through the API's filters and exports
 * the filtered view as CSV, and signs out. Checked against the API: the users exist with their
 * roles, and the CSV holds exactly the events the API returns for the same filter.
 */
test('admin: users of each role, the filtered audit log and its CSV, sign-out', async ({
  page,
}, testInfo) => {
  const bank = bankOf(testInfo);
  await signIn(page, 'admin', adminPassword);
  await expect(page).toHaveURL(/\/console\/users$/);
  await checkPage(page, 'admin-users', testInfo);
  // Dark mode follows the system setting, with the same contrast checks.
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkPage(page, 'admin-users-dark', testInfo);
  await page.emulateMedia({ colorScheme: 'light' });

  // Staff need a TOTP code from the admin (API.md step-up); a customer does not.
  for (const [username, role] of [
    ['cyril', 'Customer'],
    ['cecil', 'Customer'],
  ] as const) {
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Password').fill(`${username}-password-1`);
    await page.getByLabel('Role').selectOption({ label: role });
    await page.getByRole('button', { name: 'Create' }).click();
    await expect(
      page.getByRole('status').filter({ hasText: `Created ${role.toLowerCase()} ${username}` }),
    ).toBeVisible();
    await expect(page.getByRole('row').filter({ hasText: username })).toContainText(role.toLowerCase());
  }
  // The username is taken: said next to the Username field.
  await page.getByLabel('Username', { exact: true }).fill('cyril');
  await page.getByLabel('Password').fill('cyril-password-2');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByLabel('Username', { exact: true })).toHaveAccessibleDescription(
    /That username is taken\./,
  );

  const token = await bank.login('admin', adminPassword);
  const users = await bank.items('/users?limit=100', token);
  expect(users.find((u) => u.username === 'cyril')?.role).toBe('customer');
  expect(users.filter((u) => u.username === 'cyril')).toHaveLength(1);

  // The audit log, filtered by the API.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByLabel('Actor').fill('admin');
  await page.getByLabel('Action').fill('users.create');
  await page.getByLabel('Outcome').selectOption({ label: 'Success' });
  await page.getByRole('button', { name: 'Filter' }).click();
  const expected = await bank.items(
    '/audit-logs?actor=admin&action=users.create&outcome=success&limit=100',
    token,
  );
  expect(expected.length).toBeGreaterThanOrEqual(2);
  const body = page.locator('table.audit tbody tr');
  await expect(body).toHaveCount(expected.length);
  await expect(body.first()).toContainText('users.create');
  await checkPage(page, 'admin-audit', testInfo);

  await page.getByRole('button', { name: 'Export CSV' }).click();
  const link = page.getByRole('link', { name: `Download CSV (${expected.length} events)` });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.trimEnd().split('\r\n');
  expect(lines[0]).toBe('createdAt,actor,action,outcome,details,ip,userAgent,requestId,id');
  expect(lines).toHaveLength(expected.length + 1);
  expect(lines.slice(1).map((l) => l.split(',').at(-1))).toEqual(expected.map((e) => e.id));

  // The denied attempt shows under its own filter.
  await page.getByLabel('Action').fill('');
  await page.getByLabel('Outcome').selectOption({ label: 'Failed' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.locator('table.audit tbody tr').filter({ hasText: 'users.create' })).toHaveCount(1);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toHaveText('You signed out.');
  await checkPage(page, 'sign-in', testInfo);
});

/**
 * A second admin, ada (the bootstrap admin stays without an authenticator: the other specs sign
 * in as it over the API). Creating a teller needs a one-time code, so ada is told to enrol first,
 * enrols in Settings with the QR code's secret, then creates tess with a code; resets tess's
 * password and authenticator, disables and enables her; signs in again with a code, a wrong one
 * first. Then the API's users and audit trail, step by step.
 */
test('admin with an authenticator: enrol, a teller made with a code, resets, disable and enable, sign-in with a code', async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  const bank = bankOf(testInfo);
  const ada = { username: 'ada', password: 'ada-password-12' };
  await bank.createStaff(ada.username, ada.password, 'admin');
  await signIn(page, ada.username, ada.password);
  await expect(page).toHaveURL(/\/console\/users$/);
  const nav = page.getByRole('navigation', { name: 'Main' });

  // A teller, without an authenticator: told in words to enrol one first; no code is asked for.
  const create = page.getByRole('form', { name: 'Create a user' });
  await create.getByLabel('Username', { exact: true }).fill('tess');
  await create.getByLabel('Password', { exact: true }).fill('tess-password-1');
  await create.getByLabel('Role').selectOption({ label: 'Teller' });
  await expect(create.getByLabel('Role')).toHaveAccessibleDescription(/needs a one-time code/);
  await create.getByRole('button', { name: 'Create' }).click();
  const enrolFirst = create.getByRole('alert');
  await expect(enrolFirst).toHaveText(
    'This needs a one-time code from an authenticator app, and you have not enrolled one yet. Enrol an authenticator in Settings first, then try again.',
  );
  await expect(create.getByLabel('One-time code')).toHaveCount(0);
  await checkPage(page, 'admin-create-teller-enrol-first', testInfo);

  // The link leads to the authenticator section of Settings, with the focus.
  await enrolFirst.getByRole('link', { name: 'Enrol an authenticator in Settings' }).click();
  await expect(page).toHaveURL(/\/console\/settings#authenticator$/);
  const panel = page.getByRole('region', { name: 'Authenticator app' });
  await expect(panel).toBeFocused();
  await expect(panel).toContainText('No authenticator app is enrolled.');
  await panel.getByRole('button', { name: 'Enrol an authenticator' }).click();
  await expect(panel.getByRole('heading', { name: 'Enrol your authenticator app' })).toBeFocused();
  const qr = panel.getByRole('img', {
    name: 'QR code of your new authenticator secret, for your authenticator app to scan',
  });
  await expect(qr).toHaveAttribute('src', /^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
  // The image decoded: a drawing, not a broken image.
  await expect(qr).toHaveJSProperty('complete', true);
  expect(
    await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
  ).toBeGreaterThan(0);
  const shown = (await panel.locator('code.secret').textContent()) ?? '';
  // Grouped in fours for reading; the secret itself is 32 base32 characters (160 bits).
  expect(shown).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  const adaApp = new Authenticator(shown.replaceAll(' ', ''));
  await checkPage(page, 'settings-totp-enrol', testInfo);
  // The QR code stays dark on light when the page follows a dark system setting.
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkPage(page, 'settings-totp-enrol-dark', testInfo);
  await page.emulateMedia({ colorScheme: 'light' });
  await panel.getByLabel('One-time code').fill(await adaApp.code());
  await panel.getByRole('button', { name: 'Confirm' }).click();
  await expect(panel.getByRole('status')).toHaveText(
    'Your authenticator is enrolled. From now on, signing in asks for a one-time code.',
  );
  await expect(panel).toBeFocused();
  await expect(panel.getByRole('form', { name: 'Turn the authenticator off' })).toBeVisible();
  await checkPage(page, 'settings-totp-on', testInfo);

  // Now the form asks for the code up front, and the teller is created.
  await nav.getByRole('link', { name: 'Users' }).click();
  await create.getByLabel('Username', { exact: true }).fill('tess');
  await create.getByLabel('Password', { exact: true }).fill('tess-password-1');
  await create.getByLabel('Role').selectOption({ label: 'Teller' });
  await create.getByLabel('One-time code').fill(await adaApp.code());
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(create.getByRole('status')).toContainText('Created teller tess');
  const tessRow = page
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: 'tess', exact: true }) });
  const cells = tessRow.getByRole('cell');
  await expect(cells.nth(0)).toHaveText('teller');
  await expect(cells.nth(1)).toHaveText('Active');
  await expect(cells.nth(2)).toHaveText('Off');
  // No actions on oneself (the API refuses them): Settings instead.
  const adaRow = page
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: 'ada', exact: true }) });
  await expect(adaRow.getByText('Manage ada')).toHaveCount(0);
  await expect(adaRow.getByRole('link', { name: 'Settings' })).toBeVisible();

  // A new password for tess: the old one is refused from then on.
  await tessRow.getByText('Manage tess').click();
  const resetPassword = tessRow.getByRole('form', { name: 'Reset the password of tess' });
  await resetPassword.getByLabel('New password').fill('short');
  await resetPassword.getByRole('button', { name: 'Reset password' }).click();
  await expect(resetPassword.getByLabel('New password')).toHaveAccessibleDescription(/The new password /);
  await resetPassword.getByLabel('New password').fill('tess-password-2');
  await resetPassword.getByRole('button', { name: 'Reset password' }).click();
  await expect(tessRow.getByRole('status')).toHaveText('tess has a new password; their sessions ended.');
  await checkPage(page, 'admin-user-actions', testInfo);
  // With a user's actions open the page still fits the window: no sideways scrolling.
  expect(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')).toBe(0);
  const oldPassword = await bank.call('POST', '/auth/login', undefined, {
    username: 'tess',
    password: 'tess-password-1',
  });
  expect([oldPassword.status, oldPassword.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  const firstSession = await bank.login('tess', 'tess-password-2');
  expect((await bank.ok('GET', '/me', firstSession)).role).toBe('teller');

  // tess enrols an authenticator (over the API) and loses it: ada removes it.
  const tessApp = new Authenticator(String((await bank.ok('POST', '/me/totp', firstSession, {})).secret));
  await bank.ok('POST', '/me/totp/confirm', firstSession, { otp: await tessApp.code() });
  const needsCode = await bank.call('POST', '/auth/login', undefined, {
    username: 'tess',
    password: 'tess-password-2',
  });
  expect([needsCode.status, needsCode.body.code]).toEqual([401, 'OTP_REQUIRED']);
  await nav.getByRole('link', { name: 'Audit log' }).click();
  await nav.getByRole('link', { name: 'Users' }).click();
  await expect(cells.nth(2)).toHaveText('On');
  // The disclosure opens from the keyboard.
  await tessRow.getByText('Manage tess').focus();
  await page.keyboard.press('Enter');
  const resetTotp = tessRow.getByRole('form', { name: 'Reset the authenticator of tess' });
  await resetTotp.getByLabel('Reason').fill('Lost phone');
  await resetTotp.getByRole('button', { name: 'Reset authenticator' }).click();
  await expect(tessRow.getByRole('status')).toHaveText(
    'The authenticator of tess is removed; they can enrol a new one.',
  );
  await expect(cells.nth(2)).toHaveText('Off');
  // Without the authenticator the password alone signs tess in again (a second session).
  const secondSession = await bank.login('tess', 'tess-password-2');

  // Disabled: a reason is needed (said next to the field); then every session ends and the
  // login is refused like a wrong password; enabled again, tess signs in.
  const disable = tessRow.getByRole('form', { name: 'Disable tess' });
  await disable.getByRole('button', { name: 'Disable tess' }).click();
  await expect(disable.getByLabel('Reason')).toHaveAccessibleDescription(/The reason /);
  await disable.getByLabel('Reason').fill('Left the bank');
  await disable.getByRole('button', { name: 'Disable tess' }).click();
  await expect(cells.nth(1)).toHaveText('Disabled');
  await expect(tessRow.getByRole('status')).toHaveText(
    'tess is disabled: their sessions ended and sign-in is refused.',
  );
  // Both of tess's sessions ended at once.
  expect((await bank.call('GET', '/me', firstSession)).status).toBe(401);
  expect((await bank.call('GET', '/me', secondSession)).status).toBe(401);
  const refused = await bank.call('POST', '/auth/login', undefined, {
    username: 'tess',
    password: 'tess-password-2',
  });
  expect([refused.status, refused.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  // The focus stays on the button, which now enables: Enter.
  await expect(tessRow.getByRole('button', { name: 'Enable tess' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(cells.nth(1)).toHaveText('Active');
  await expect(tessRow.getByRole('status')).toHaveText('tess may sign in again.');
  await bank.login('tess', 'tess-password-2');

  // Signing in again asks for the code: a wrong one is said next to the field.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toHaveText('You signed out.');
  await page.getByLabel('Username').fill(ada.username);
  await page.getByLabel('Password').fill(ada.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const code = page.getByLabel('One-time code');
  await expect(code).toBeFocused();
  await expect(code).toHaveAccessibleDescription('Enter the one-time code from your authenticator app.');
  await code.fill(adaApp.wrongCode());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(code).toHaveAttribute('aria-invalid', 'true');
  await expect(code).toHaveAccessibleDescription(/^The one-time code is wrong or was already used/);
  await checkPage(page, 'sign-in-wrong-code', testInfo);
  await code.fill(await adaApp.code());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();

  // The API's state: the users, and every step in ada's audit trail, in order.
  const admin = await bank.login('admin', adminPassword);
  const users = await bank.items('/users?limit=100', admin);
  const state = (username: string) => {
    const u = users.find((x) => x.username === username);
    return [u?.role, u?.disabled, u?.totpEnabled];
  };
  expect(state('ada')).toEqual(['admin', false, true]);
  expect(state('tess')).toEqual(['teller', false, false]);
  const events = (await bank.items('/audit-logs?actor=ada&limit=100', admin)).reverse();
  const reads = new Set(['users.list', 'me.get', 'auditLogs.list', 'auth.refresh']);
  expect(events.filter((e) => !reads.has(String(e.action))).map((e) => `${e.action}:${e.outcome}`)).toEqual([
    'auth.login:success',
    'users.create:denied',
    'me.totp.enrol:success',
    'me.totp.confirm:success',
    'users.create:success',
    'users.password:failed',
    'users.password:success',
    'users.totp.reset:success',
    'users.disable:failed',
    'users.disable:success',
    'users.enable:success',
    'auth.logout:success',
    'auth.login:denied',
    'auth.login:denied',
    'auth.login:success',
  ]);
  const details = (action: string, outcome: string) =>
    events.filter((e) => e.action === action && e.outcome === outcome).map((e) => e.details as Json);
  expect(details('users.create', 'denied')).toEqual([
    expect.objectContaining({ code: 'STEP_UP_REQUIRED', enrolmentRequired: true }),
  ]);
  const tess = users.find((u) => u.username === 'tess');
  expect(details('users.totp.reset', 'success')).toEqual([
    expect.objectContaining({ userId: tess?.id, username: 'tess', reason: 'Lost phone' }),
  ]);
  expect(details('users.disable', 'success')).toEqual([
    expect.objectContaining({
      userId: tess?.id,
      username: 'tess',
      reason: 'Left the bank',
      sessionsEnded: 2,
    }),
  ]);
  expect(details('users.password', 'success')).toEqual([
    expect.objectContaining({ userId: tess?.id, username: 'tess' }),
  ]);
  // The secret never reaches the audit trail.
  expect(JSON.stringify(events)).not.toContain(shown.replaceAll(' ', ''));
  const tessEvents = (await bank.items('/audit-logs?actor=tess&limit=100', admin)).reverse();
  expect(tessEvents.map((e) => `${e.action}:${e.outcome}`)).toEqual([
    'auth.login:denied',
    'auth.login:success',
    'me.get:success',
    'me.totp.enrol:success',
    'me.totp.confirm:success',
    'auth.login:denied',
    'auth.login:success',
    'me.get:denied',
    'me.get:denied',
    'auth.login:denied',
    'auth.login:success',
  ]);
});

test('the API reference at /docs: the whole contract as a static page, under the same CSP, axe with every rule on', async ({
  page,
}, testInfo) => {
  // axe over the whole contract (31 operations, 39 schemas, every field and code) takes a while,
  // and it runs twice: light and dark.
  test.setTimeout(120_000);
  const response = await page.goto('/docs/');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  await expect(page.getByRole('heading', { level: 1, name: 'Bank API reference' })).toBeVisible();
  await expect(page.getByRole('banner').getByRole('link', { name: 'Back to the console' })).toHaveAttribute(
    'href',
    '/console/',
  );
  // The document it was generated from is served beside it, and is the same document.
  const download = page.getByRole('link', { name: 'Download the OpenAPI document (JSON)' });
  await expect(download).toHaveAttribute('href', '/openapi.json');
  const document = (await (await page.request.get('/openapi.json')).json()) as {
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, unknown> };
  };
  const operations = Object.values(document.paths).flatMap((item) => Object.keys(item)).length;
  await expect(page.locator('section.operation')).toHaveCount(operations);
  await expect(page.locator('section.schema')).toHaveCount(Object.keys(document.components.schemas).length);
  // No script at all: the page is whole as served.
  await expect(page.locator('script')).toHaveCount(0);

  // POST /transfers, reached from the contents: its roles, and INSUFFICIENT_FUNDS under 422.
  await page
    .getByRole('navigation', { name: 'Contents' })
    .getByRole('link', { name: 'POST /transfers', exact: true })
    .click();
  await expect(page).toHaveURL(/\/docs\/#op-transfers-create$/);
  const transfer = page.locator('#op-transfers-create');
  await expect(transfer.getByRole('heading', { level: 4 })).toHaveText('POST /transfers');
  await expect(transfer.locator('.roles li')).toHaveText(['customer', 'teller', 'admin']);
  const unprocessable = transfer
    .getByRole('table', { name: 'Responses of POST /transfers' })
    .getByRole('row', {
      name: /^422 Unprocessable Content/,
    });
  await expect(unprocessable.locator('a[href^="#code-"]')).toHaveText([
    'IDEMPOTENCY_KEY_REUSED',
    'INSUFFICIENT_FUNDS',
    'LIMIT_EXCEEDED',
  ]);
  // A code links to the table of every code, and the body to its schema's field table.
  await unprocessable.getByRole('link', { name: 'INSUFFICIENT_FUNDS' }).click();
  await expect(page.locator('#code-INSUFFICIENT_FUNDS')).toContainText('422 Unprocessable Content');
  await page.goBack();
  await transfer.getByRole('link', { name: 'TransfersCreateRequest' }).first().click();
  await expect(
    page.locator('#schema-TransfersCreateRequest').getByRole('row', { name: /^amount string yes/ }),
  ).toBeVisible();

  // axe with no rule turned off, in light and dark, and the screenshot of POST /transfers.
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkPage(page, 'api-reference-dark', testInfo, { fullPage: false });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/docs/#op-transfers-create');
  await checkPage(page, 'api-reference', testInfo, { fullPage: false });
});
