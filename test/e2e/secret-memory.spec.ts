import type { Page } from '@playwright/test';
import { adminPassword, bankOf, expect, signIn, test } from './fixtures';
import { Authenticator } from './totp';

/**
 * An authenticator's secret is shown once, while it is enrolled, and kept by the console no
 * longer than that screen: once the user leaves it (enrolled, or giving up halfway), nothing in
 * the page's memory holds the secret, so a script that runs in the page later (an injected one,
 * or a person at the unlocked browser with its developer tools) finds no second factor to copy.
 * Checked in Chromium's own heap, after a garbage collection, for the secret and its otpauth URI.
 */

// Tracing keeps DOM snapshots (removed nodes included) in the page's own heap: off here.
test.use({ trace: 'off' });

interface HeapSnapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: unknown[] } };
  readonly nodes: number[];
  readonly strings: string[];
}

/**
 * Whether a string in the page's JavaScript heap (what a script could reach) holds `needle`,
 * after a full garbage collection. The DOM nodes a screen left behind are not strings: they are
 * not looked at, nor is anything the browser keeps of its own.
 */
async function heapHolds(page: Page, needle: string): Promise<boolean> {
  const cdp = await page.context().newCDPSession(page);
  const chunks: string[] = [];
  try {
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    cdp.on('HeapProfiler.addHeapSnapshotChunk', (event) => chunks.push(event.chunk));
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    await cdp.detach();
  }
  const heap = JSON.parse(chunks.join('')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  if (!Array.isArray(types)) throw new Error('unexpected heap snapshot');
  const [typeAt, nameAt] = [fields.indexOf('type'), fields.indexOf('name')];
  const stringTypes = new Set(['string', 'concatenated string', 'sliced string']);
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt] ?? -1];
    if (typeof type !== 'string' || !stringTypes.has(type)) continue;
    if (heap.strings[heap.nodes[i + nameAt] ?? -1]?.includes(needle)) return true;
  }
  return false;
}

async function newCustomer(page: Page, name: string): Promise<void> {
  const bank = bankOf(test.info());
  const admin = await bank.login('admin', adminPassword);
  const customer = { username: name, password: `${name}-password-1` };
  await bank.ok('POST', '/users', admin, { ...customer, role: 'customer' });
  await signIn(page, customer.username, customer.password);
}

async function startEnrolment(page: Page): Promise<string> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  const panel = page.getByRole('region', { name: 'Authenticator app' });
  await panel.getByRole('button', { name: 'Enrol an authenticator' }).click();
  await expect(panel.getByRole('img', { name: /^QR code of your new authenticator secret/ })).toBeVisible();
  const secret = ((await panel.locator('code.secret').textContent()) ?? '').replaceAll(' ', '');
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  return secret;
}

async function leaveForAccounts(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
  await expect(page).toHaveURL(/\/console\/accounts$/);
  await expect(page.getByRole('heading', { name: /accounts/i, level: 1 })).toBeVisible();
}

test('the secret of a confirmed enrolment is gone from memory once the user leaves Settings', async ({
  page,
}) => {
  await newCustomer(page, 'mira');
  const secret = await startEnrolment(page);
  // While the enrolment is on the screen, the secret is in memory: the check sees it.
  expect(await heapHolds(page, secret)).toBe(true);
  const panel = page.getByRole('region', { name: 'Authenticator app' });
  await panel.getByLabel('One-time code').fill(await new Authenticator(secret).code());
  await panel.getByRole('button', { name: 'Confirm' }).click();
  await expect(panel.getByRole('status')).toHaveText(
    'Your authenticator is enrolled. From now on, signing in asks for a one-time code.',
  );
  await leaveForAccounts(page);
  expect(await heapHolds(page, secret)).toBe(false);
});

test('the secret of an enrolment given up halfway is gone from memory once the user leaves Settings', async ({
  page,
}) => {
  await newCustomer(page, 'nils');
  const secret = await startEnrolment(page);
  await leaveForAccounts(page);
  expect(await heapHolds(page, secret)).toBe(false);
});
