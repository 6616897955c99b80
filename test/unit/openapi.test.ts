import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { type RouteName, routes } from '../../functions/routes';
import { grantFor, roles } from '../../shared/auth/policy';
import { buildOpenApiDocument, exampleOf, refusalsOf } from '../../shared/openapi';
import { type RouteSpec, routeSpecs } from '../../shared/schemas';

type Json = Record<string, unknown>;
const doc = buildOpenApiDocument();
const paths = doc.paths as Record<string, Record<string, Json>>;

function operationOf(route: (typeof routes)[number]): Json {
  const operation = paths[route.path]?.[route.method.toLowerCase()];
  if (!operation) throw new Error(`no operation for ${route.method} ${route.path}`);
  return operation;
}

describe('the OpenAPI document', () => {
  it('passes a standard OpenAPI 3.1 validator', async () => {
    // validate() dereferences in place; it gets a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('refers only to schemas that components.schemas holds', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain('#/$defs/');
    const schemas = (doc.components as { schemas: Json }).schemas;
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(20);
    for (const name of refs) expect(schemas, name).toHaveProperty(name);
    for (const name of ['User', 'Account', 'Movement', 'Transfer', 'Entry', 'AuditEvent', 'Problem']) {
      expect(schemas).toHaveProperty(name);
    }
  });

  it('gives the two sides of a transfer different example accounts (the API refuses one account on both)', () => {
    const doc = buildOpenApiDocument() as unknown as {
      components: { schemas: Record<string, { properties?: Record<string, { example?: unknown }> }> };
    };
    const fields = doc.components.schemas.TransfersCreateRequest?.properties ?? {};
    expect(fields.fromAccountNo?.example).toBe('400000000002');
    expect(fields.toAccountNo?.example).toBe('400000000010');
  });

  it('names a server', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: expect.any(String) })]);
  });

  it('states, for every route, the roles the policy table allows', () => {
    for (const route of routes) {
      const operation = operationOf(route);
      const allowed = roles.filter((role) => grantFor(route.name, role) !== undefined);
      const expected =
        route.name === 'health' || route.name === 'openapi' || route.name === 'auth.login'
          ? ['public']
          : allowed;
      expect(operation['x-roles'], route.name).toEqual(expected);
      expect(String(operation.description)).toMatch(/^(Roles|Public)/);
    }
  });

  it('lists every error code of every route under its status', () => {
    for (const route of routes) {
      const responses = operationOf(route).responses as Record<string, Json>;
      for (const refusal of refusalsOf(route.name)) {
        const response = responses[String(refusal.status)];
        expect(response?.['x-codes'], `${route.name} ${refusal.status}`).toContain(refusal.code);
      }
      const spec: RouteSpec = routeSpecs[route.name];
      const hasInput = Boolean(spec.body || spec.params || spec.query);
      if (hasInput) expect(responses['400']?.['x-codes'], route.name).toContain('VALIDATION_FAILED');
    }
    const transfer = operationOf(routes.find((r) => r.name === 'transfers.create') ?? routes[0]);
    const codes = Object.values(transfer.responses as Record<string, Json>).flatMap(
      (r) => (r['x-codes'] as string[] | undefined) ?? [],
    );
    expect(codes).toEqual(
      expect.arrayContaining([
        'INVALID_PIN',
        'INSUFFICIENT_FUNDS',
        'ACCOUNT_LOCKED',
        'IDEMPOTENCY_KEY_REUSED',
      ]),
    );
  });

  it('lists every refusal that the SQL functions in migrations/ can return', () => {
    // Functions whose action is a variable: the routes that call them.
    const callers: Record<string, RouteName[]> = {
      bank_move: ['accounts.deposit', 'accounts.withdraw'],
      bank_transfer: ['transfers.create'],
      bank_pin_reserve: ['accounts.deposit', 'accounts.withdraw', 'transfers.create'],
      bank_pin_failed: ['accounts.deposit', 'accounts.withdraw', 'transfers.create'],
      bank_account_pin: ['accounts.pin'],
      bank_approval_approve: ['approvals.approve'],
      bank_approval_reject: ['approvals.reject'],
      bank_debit_limit_take: ['accounts.withdraw', 'transfers.create'],
      bank_pin_verify: ['accounts.deposit', 'accounts.withdraw', 'transfers.create', 'accounts.pin'],
      bank_reauth_begin: ['me.password', 'me.totp.disable'],
      bank_reauth_judge: ['me.password', 'me.totp.disable'],
      bank_step_up: [
        'accounts.deposit',
        'accounts.withdraw',
        'transfers.create',
        'accounts.pin',
        'me.password',
        'me.totp.disable',
        'users.create',
      ],
      bank_user_target: ['users.password', 'users.disable', 'users.enable', 'users.totp.reset'],
    };
    const dir = path.resolve(import.meta.dirname, '../../migrations');
    let found = 0;
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.sql'),
    )) {
      const sql = readFileSync(path.join(dir, file), 'utf8');
      let fn = '';
      for (const line of sql.split('\n')) {
        fn = /FUNCTION\s+(\w+)\s*\(/.exec(line)?.[1] ?? fn;
        for (const m of line.matchAll(
          /bank_refuse\(\s*\w+\s*,\s*('([^']+)'|\w+)\s*,\s*(\d{3})\s*,\s*'([A-Z_]+)'/g,
        )) {
          const literal = m[2];
          const targets = literal !== undefined ? [literal] : callers[fn];
          expect(
            targets,
            `${file}: ${fn} refuses with a variable action; name its routes here`,
          ).toBeDefined();
          // A shared function's refusal must be listed for at least one of its callers (bank_move
          // refuses INSUFFICIENT_FUNDS for withdrawals only).
          const listing = (targets ?? [])
            .flatMap((target) => routes.filter((r) => r.name === target))
            .filter((route) =>
              refusalsOf(route.name).some((r) => r.status === Number(m[3]) && r.code === m[4]),
            );
          found += 1;
          expect(listing.length, `${file}: ${fn} ${m[3]} ${m[4]} is in no route's errors`).toBeGreaterThan(0);
        }
      }
    }
    expect(found).toBeGreaterThan(10);
  });

  it('carries a request example for every body, each valid under its schema', () => {
    for (const route of routes) {
      const spec = routeSpecs[route.name];
      if (!('body' in spec)) continue;
      const example = exampleOf(route.name);
      expect(example, route.name).toBeDefined();
      const parsed = spec.body.safeParse(example);
      expect(parsed.success, `${route.name}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      const body = operationOf(route).requestBody as { content: Record<string, Json> };
      expect(body.content['application/json']?.examples).toEqual({ example: { value: example } });
    }
  });
});
