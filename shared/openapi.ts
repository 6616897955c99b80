import { type RouteName, routes } from '../functions/routes';
import { type Grant, grantFor, isPublic, policy, roles } from './auth/policy';
import { type ErrorCode, errorCodes } from './errors';
import { approvalShape, problemShape, type RouteSpec, routeSpecs } from './schemas';
import * as z from './zod';

/**
 * The OpenAPI 3.1 document, generated from the route manifest, the RBAC policy table and the zod
 * schemas (zod's own JSON Schema output is draft 2020-12, which is OpenAPI 3.1's dialect). Named
 * schemas (those registered with an `id`) become `components.schemas` and are referenced from
 * there; nothing in the document is written by hand except the examples and the refusals that
 * only the SQL functions know (listed below and checked against migrations/ by a test).
 */
type JsonSchema = Record<string, unknown>;

/** Where a route's named schemas end up; filled while the paths are built. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** zod's JSON Schema with its `$defs` hoisted into components.schemas and its refs rewritten. */
  schemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
    const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
    delete out.$schema;
    const defs = (out.$defs ?? {}) as Record<string, JsonSchema>;
    delete out.$defs;
    for (const [name, def] of Object.entries(defs)) this.add(name, rewriteRefs(def) as JsonSchema);
    return rewriteRefs(out) as JsonSchema;
  }

  /** A named component; the same name must always mean the same schema. */
  add(name: string, schema: JsonSchema): { $ref: string } {
    const existing = this.schemas[name];
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(schema)) {
      throw new Error(`schema '${name}' has two different definitions`);
    }
    this.schemas[name] = schema;
    return { $ref: `#/components/schemas/${name}` };
  }

  /** A route's body as a named component (`TransfersCreateRequest`), for clients' types. */
  named(name: string, schema: z.ZodMiniType, io: 'input' | 'output'): { $ref: string } {
    const json = this.schemaOf(schema, io);
    if (typeof json.$ref === 'string' && Object.keys(json).length === 1) return { $ref: json.$ref };
    return this.add(name, json);
  }
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')
        ? `#/components/schemas/${inner.slice('#/$defs/'.length)}`
        : rewriteRefs(inner);
  }
  return out;
}

/** `accounts.deposit` → `AccountsDeposit`. */
function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

// ---- errors ------------------------------------------------------------------------------------

export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly when: string;
}

/**
 * Refusals decided inside the SQL functions (migrations/), which no schema or table here can
 * derive. test/unit/openapi.test.ts reads every `bank_refuse(...)` in migrations/ and fails when a
 * code the database can return for a route is missing here.
 */
export const databaseRefusals: Partial<Record<RouteName, readonly Refusal[]>> = {
  'auth.login': [
    { status: 401, code: 'UNAUTHENTICATED', when: 'wrong username or password' },
    {
      status: 429,
      code: 'RATE_LIMITED',
      when: '10 failed logins for the username, or 50 from the source address, within 15 minutes (`retry-after`)',
    },
  ],
  'users.create': [{ status: 409, code: 'CONFLICT', when: 'the username is taken' }],
  'accounts.create': [{ status: 404, code: 'NOT_FOUND', when: 'no such customer' }],
  'accounts.get': [{ status: 404, code: 'NOT_FOUND', when: 'no such account, or not yours' }],
  'accounts.history': [{ status: 404, code: 'NOT_FOUND', when: 'no such account, or not yours' }],
  'accounts.lock': [{ status: 404, code: 'NOT_FOUND', when: 'no such account' }],
  'accounts.unlock': [{ status: 404, code: 'NOT_FOUND', when: 'no such account' }],
  'accounts.deposit': [
    { status: 403, code: 'INVALID_PIN', when: 'a wrong PIN (member `attemptsRemaining`)' },
    { status: 404, code: 'NOT_FOUND', when: 'no such account, or not yours' },
    { status: 423, code: 'ACCOUNT_LOCKED', when: 'the account is locked' },
  ],
  'accounts.withdraw': [
    { status: 403, code: 'INVALID_PIN', when: 'a wrong PIN (member `attemptsRemaining`)' },
    { status: 404, code: 'NOT_FOUND', when: 'no such account, or not yours' },
    { status: 422, code: 'INSUFFICIENT_FUNDS', when: 'the balance is lower than the amount' },
    { status: 423, code: 'ACCOUNT_LOCKED', when: 'the account is locked' },
  ],
  'transfers.create': [
    { status: 403, code: 'INVALID_PIN', when: 'a wrong PIN (member `attemptsRemaining`)' },
    { status: 404, code: 'NOT_FOUND', when: 'no such source account (or not yours), or no such destination' },
    { status: 422, code: 'INSUFFICIENT_FUNDS', when: 'the balance is lower than the amount' },
    { status: 423, code: 'ACCOUNT_LOCKED', when: 'either account is locked' },
  ],
};

/** What a listed code means, as API.md states it. */
const codeWhen: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'wrong credentials, or a session that has ended',
  OTP_REQUIRED: 'the user has enrolled TOTP and the login gave no `otp`',
  FORBIDDEN: 'the role may not do this (or not on this target)',
  INVALID_PIN: 'a wrong PIN (member `attemptsRemaining`)',
  STEP_UP_REQUIRED:
    'a high-risk operation without a fresh `otp` (member `enrolmentRequired` when not enrolled)',
  INVALID_OTP: 'a wrong or reused TOTP code',
  NOT_FOUND: 'no such thing, or not yours',
  CONFLICT: 'the state does not allow it (taken, already decided, expired)',
  INSUFFICIENT_FUNDS: 'the balance is lower than the amount',
  LIMIT_EXCEEDED: 'the daily debit limit (members `limit`, `remaining`)',
  ACCOUNT_LOCKED: 'the account is locked',
  RATE_LIMITED: 'too many failures (header `retry-after`)',
};

/**
 * Every refusal a route can answer with: the generic ones derived from the manifest, the policy
 * table and the schemas, then the database's own.
 */
export function refusalsOf(route: RouteName): Refusal[] {
  const spec: RouteSpec = routeSpecs[route];
  const out: Refusal[] = [];
  if (spec.body || spec.params || spec.query) {
    out.push({
      status: 400,
      code: 'VALIDATION_FAILED',
      when: 'the body, path or query fails the schema (member `errors: [{path, message}]`)',
    });
  }
  if (!isPublic(route)) {
    out.push({
      status: 401,
      code: 'UNAUTHENTICATED',
      when: 'missing, malformed, expired or wrongly signed token',
    });
    const grants = roles.map((role) => grantFor(route, role));
    if (grants.some((g) => g === undefined || g === 'customersOnly' || g === 'notSelf')) {
      out.push({ status: 403, code: 'FORBIDDEN', when: 'the role may not do this' });
    }
  }
  if (spec.body) {
    out.push({ status: 413, code: 'PAYLOAD_TOO_LARGE', when: 'the body is larger than 16 KiB' });
    out.push({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', when: 'the body is not application/json' });
  }
  if (spec.idempotent) {
    out.push({
      status: 422,
      code: 'IDEMPOTENCY_KEY_REUSED',
      when: 'the Idempotency-Key was used with a different body',
    });
  }
  for (const refusal of databaseRefusals[route] ?? []) {
    if (!out.some((r) => r.status === refusal.status && r.code === refusal.code)) out.push(refusal);
  }
  // The codes a route's spec lists (shared/schemas.ts: v1.1 step-up, limits, approvals, ...).
  for (const code of spec.errors ?? []) {
    const status = errorCodes[code];
    if (!out.some((r) => r.status === status && r.code === code))
      out.push({ status, code, when: codeWhen[code] ?? code });
  }
  if (route !== 'health' && route !== 'openapi') {
    out.push({ status: 500, code: 'INTERNAL', when: 'anything unexpected; nothing was changed' });
  }
  return out.sort((a, b) => a.status - b.status || a.code.localeCompare(b.code));
}

// ---- roles ---------------------------------------------------------------------------------------

const grantWords: Record<Grant, string> = {
  all: '',
  own: ' (own accounts only)',
  customersOnly: ' (customers only)',
  notSelf: ' (not on their own user)',
};

/** The roles that may call a route, from the policy table: `x-roles` and a sentence. */
function rolesOf(route: RouteName): { roles: string[]; text: string } {
  if (isPublic(route)) return { roles: ['public'], text: 'Public: no token needed.' };
  const allowed = roles.flatMap((role) => {
    const grant = grantFor(route, role);
    return grant === undefined ? [] : [{ role, grant }];
  });
  const words = allowed.map(({ role, grant }) => `${role}${grantWords[grant]}`).join(', ');
  return { roles: allowed.map((a) => a.role), text: `Roles: ${words}.` };
}

// ---- examples ------------------------------------------------------------------------------------

/**
 * Request examples. test/integration/openapi.test.ts sends each one to the running API and
 * requires it to pass validation (a 400 fails the test), so they cannot drift from the schemas.
 */
export const requestExamples: Partial<Record<RouteName, Record<string, unknown>>> = {
  'auth.login': { username: 'alice', password: 'alice-password-1' },
  'users.create': { username: 'alice', password: 'alice-password-1', role: 'customer' },
  'accounts.create': { ownerId: '0b4a8d43-8c63-4a53-9b1e-6d0b9f3b2c11', name: 'Everyday', pin: '4826' },
  'accounts.deposit': { amount: '125.50', memo: 'Cash at the counter' },
  'accounts.withdraw': { amount: '40.00', pin: '4826', memo: 'ATM' },
  'transfers.create': {
    fromAccountNo: '400000000002',
    toAccountNo: '400000000010',
    amount: '25.00',
    pin: '4826',
    memo: 'Rent share',
  },
  'accounts.lock': { reason: 'Card reported stolen' },
  'accounts.unlock': {},
  'me.password': { currentPassword: 'alice-password-1', newPassword: 'alice-password-2', otp: '492039' },
  'users.password': { newPassword: 'alice-password-2' },
  'users.disable': { reason: 'Left the bank' },
  'accounts.pin': { newPin: '7391' },
  'me.totp.confirm': { otp: '492039' },
  'me.totp.disable': { otp: '492039', password: 'alice-password-1' },
  'users.totp.reset': { reason: 'Lost phone, identity checked at the counter' },
  'approvals.reject': { reason: 'Not confirmed with the customer' },
};

/** A route's request example: the one written above, or `{}` for a body that takes nothing. */
export function exampleOf(route: RouteName): Record<string, unknown> | undefined {
  const written = requestExamples[route];
  if (written !== undefined) return written;
  const spec: RouteSpec = routeSpecs[route];
  return spec.body?.safeParse({}).success ? {} : undefined;
}

// ---- the document --------------------------------------------------------------------------------

function parametersOf(spec: RouteSpec, components: Components): Array<Record<string, unknown>> {
  const parameters: Array<Record<string, unknown>> = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    if (!schema) continue;
    const json = components.schemaOf(schema, 'input');
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      parameters.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        schema: property,
      });
    }
  }
  if (spec.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^[\\x20-\\x7e]{1,100}$' },
      description:
        'Same key, same user, same body within 24 h replays the first response (with `Idempotent-Replayed: true`) and moves no money.',
    });
  }
  return parameters;
}

function errorResponses(route: RouteName, problem: { $ref: string }): Record<string, unknown> {
  const byStatus = new Map<number, Refusal[]>();
  for (const refusal of refusalsOf(route))
    byStatus.set(refusal.status, [...(byStatus.get(refusal.status) ?? []), refusal]);
  const responses: Record<string, unknown> = {};
  for (const [status, refusals] of byStatus) {
    responses[String(status)] = {
      description: refusals.map((r) => `\`${r.code}\`: ${r.when}`).join('; '),
      'x-codes': refusals.map((r) => r.code),
      content: {
        'application/problem+json': {
          schema: {
            allOf: [problem, { type: 'object', properties: { code: { enum: refusals.map((r) => r.code) } } }],
          },
        },
      },
      ...(status === 429
        ? { headers: { 'retry-after': { description: 'Seconds to wait', schema: { type: 'integer' } } } }
        : {}),
    };
  }
  return responses;
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const components = new Components();
  const problem = components.named('Problem', problemShape, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const spec: RouteSpec = routeSpecs[route.name];
    const who = rolesOf(route.name);
    const operation: Record<string, unknown> = {
      operationId: route.name,
      summary: spec.summary,
      description: who.text,
      tags: [route.path.split('/')[1] ?? ''],
      'x-roles': who.roles,
      'x-policy': policy[route.name],
      parameters: parametersOf(spec, components),
      responses: {
        [String(spec.successStatus)]: spec.response
          ? {
              description: 'Success',
              content: {
                'application/json': {
                  schema: components.named(`${pascal(route.name)}Response`, spec.response, 'output'),
                },
              },
            }
          : { description: 'Success, no content' },
        ...(spec.pendingApproval
          ? {
              '202': {
                description: "A teller's movement of at least the approval amount: nothing moved yet",
                content: {
                  'application/json': { schema: components.named('Approval', approvalShape, 'output') },
                },
              },
            }
          : {}),
        ...errorResponses(route.name, problem),
      },
    };
    if (spec.body) {
      const example = exampleOf(route.name);
      operation.requestBody = {
        required: true,
        content: {
          'application/json': {
            schema: components.named(`${pascal(route.name)}Request`, spec.body, 'input'),
            ...(example !== undefined ? { examples: { example: { value: example } } } : {}),
          },
        },
      };
    }
    if (!isPublic(route.name)) operation.security = [{ bearer: [] }];
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bank API',
      version: '1.0.0',
      description:
        'Customers, tellers and admins on one HTTPS API. Money is a decimal string with two fraction digits; errors are `application/problem+json` with a stable `code`.',
    },
    servers: [{ url: '/', description: 'The origin that serves this document' }],
    // Every error code and its status, as API.md lists them.
    'x-error-codes': errorCodes,
    components: {
      schemas: components.schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  };
}
