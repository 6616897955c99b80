import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RouteName, routes } from '../../functions/routes';
import { requestExamples } from '../../shared/openapi';
import { query, startTestStack, type TestStack } from '../helpers/stack';

/**
 * Every request example of /openapi.json, sent as-is to the running API, succeeds. The fixtures
 * make the example's ids real: the example owner exists and owns the example account numbers.
 */
let s: TestStack;
let admin: string;
let owner: string;
type Json = Record<string, unknown>;
let doc: Json;

function exampleOf(name: RouteName): { method: string; path: string; body: unknown } {
  const route = routes.find((r) => r.name === name);
  if (!route) throw new Error(name);
  const operation = (doc.paths as Record<string, Record<string, Json>>)[route.path]?.[
    route.method.toLowerCase()
  ];
  const content = (operation?.requestBody as { content: Record<string, { examples?: Json }> } | undefined)
    ?.content;
  const example = (content?.['application/json']?.examples?.example as { value: unknown } | undefined)?.value;
  return { method: route.method, path: route.path, body: example };
}

beforeAll(async () => {
  s = await startTestStack();
  await s.createUser('root', 'root-password-1', 'admin');
  admin = await s.login('root', 'root-password-1');
  doc = (await s.call('GET', '/openapi.json')).body;
  const ownerId = (requestExamples['accounts.create'] as { ownerId: string }).ownerId;
  const id = await s.createUser('example-owner', 'owner-password-1', 'customer');
  await query(s.db, 'UPDATE users SET id = $1 WHERE id = $2', [ownerId, id]);
  owner = await s.login('example-owner', 'owner-password-1');
});
afterAll(async () => {
  await s?.close();
});

describe('the request examples of /openapi.json', () => {
  it('are accepted by the running API, each with its success status', async () => {
    const send = async (name: RouteName, token: string | undefined, accountNo?: string) => {
      const { method, path, body } = exampleOf(name);
      expect(body, name).toBeDefined();
      const res = await s.call(method, path.replace('{accountNo}', accountNo ?? ''), {
        ...(token ? { token } : {}),
        body,
      });
      return res;
    };
    expect((await send('users.create', admin)).status).toBe(201);
    expect((await send('auth.login', undefined)).status).toBe(200);

    // Two accounts for the example owner, renumbered to the numbers the examples name.
    const first = await send('accounts.create', admin);
    const second = await send('accounts.create', admin);
    expect([first.status, second.status]).toEqual([201, 201]);
    const transfer = exampleOf('transfers.create').body as { fromAccountNo: string; toAccountNo: string };
    await query(s.db, 'UPDATE accounts SET account_no = $1 WHERE account_no = $2', [
      transfer.fromAccountNo,
      first.body.accountNo,
    ]);
    await query(s.db, 'UPDATE accounts SET account_no = $1 WHERE account_no = $2', [
      transfer.toAccountNo,
      second.body.accountNo,
    ]);

    const deposit = await send('accounts.deposit', admin, transfer.fromAccountNo);
    expect(deposit.status, deposit.text).toBe(200);
    const withdraw = await send('accounts.withdraw', owner, transfer.fromAccountNo);
    expect(withdraw.status, withdraw.text).toBe(200);
    const moved = await send('transfers.create', owner);
    expect(moved.status, moved.text).toBe(201);
    expect(moved.body.fromBalanceAfter).toBe('60.50');
    expect((await send('accounts.lock', admin, transfer.toAccountNo)).status).toBe(200);
    expect((await send('accounts.unlock', admin, transfer.toAccountNo)).status).toBe(200);

    // The v1.1 examples need state a fresh bank lacks (an enrolled authenticator, a pending
    // approval): each must still pass the API's validation, so none may answer 400.
    const sent = [
      'auth.login',
      'users.create',
      'accounts.create',
      'accounts.deposit',
      'accounts.withdraw',
      'transfers.create',
      'accounts.lock',
      'accounts.unlock',
    ];
    const ownerId = (requestExamples['accounts.create'] as { ownerId: string }).ownerId;
    for (const route of routes.filter(
      (r) => requestExamples[r.name] !== undefined && !sent.includes(r.name),
    )) {
      const { method, path, body } = exampleOf(route.name);
      const res = await s.call(
        method,
        path
          .replace('{accountNo}', transfer.fromAccountNo)
          .replace('{userId}', ownerId)
          .replace('{approvalId}', '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b'),
        { token: route.name.startsWith('me.') ? owner : admin, body },
      );
      expect(res.status, `${route.name}: ${res.text}`).not.toBe(400);
    }
  });
});
