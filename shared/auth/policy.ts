import type { RouteName } from '../../functions/routes';
import type { DbRole } from './db-roles';

export type { DbRole } from './db-roles';

/**
 * The one RBAC policy table (API layer). The SQL layer repeats the same rules with grants and
 * SECURITY DEFINER checks (migrations/), so a bug here cannot widen what the database allows.
 *
 * - `public`: no token needed.
 * - `all`: the role may call the route for anything.
 * - `own`: a customer, only for accounts they own (checked by the handler and by SQL).
 * - `customersOnly`: a teller acts on (creates, lists, resets) users of role `customer` only.
 * - `notSelf`: an admin, on any user but their own.
 * - absent: 403 FORBIDDEN.
 */
export type Role = 'customer' | 'teller' | 'admin';
export const roles: readonly Role[] = ['customer', 'teller', 'admin'];
export type Grant = 'all' | 'own' | 'customersOnly' | 'notSelf';

export const policy: Record<RouteName, { public: true } | Partial<Record<Role, Grant>>> = {
  health: { public: true },
  openapi: { public: true },
  'auth.login': { public: true },
  'auth.logout': { customer: 'all', teller: 'all', admin: 'all' },
  'auth.refresh': { customer: 'all', teller: 'all', admin: 'all' },
  'me.get': { customer: 'all', teller: 'all', admin: 'all' },
  'users.create': { teller: 'customersOnly', admin: 'all' },
  'users.list': { teller: 'customersOnly', admin: 'all' },
  'accounts.create': { teller: 'all', admin: 'all' },
  'accounts.list': { customer: 'own', teller: 'all', admin: 'all' },
  'accounts.get': { customer: 'own', teller: 'all', admin: 'all' },
  'accounts.deposit': { customer: 'own', teller: 'all', admin: 'all' },
  'accounts.withdraw': { customer: 'own', teller: 'all', admin: 'all' },
  'transfers.create': { customer: 'own', teller: 'all', admin: 'all' },
  'accounts.lock': { teller: 'all', admin: 'all' },
  'accounts.unlock': { teller: 'all', admin: 'all' },
  'accounts.history': { customer: 'own', teller: 'all', admin: 'all' },
  'auditLogs.list': { admin: 'all' },
  'me.password': { customer: 'all', teller: 'all', admin: 'all' },
  'users.password': { teller: 'customersOnly', admin: 'all' },
  'users.disable': { admin: 'notSelf' },
  'users.enable': { admin: 'all' },
  'accounts.pin': { customer: 'own', teller: 'all', admin: 'all' },
  'transfers.get': { customer: 'own', teller: 'all', admin: 'all' },
  'me.totp.enrol': { customer: 'all', teller: 'all', admin: 'all' },
  'me.totp.confirm': { customer: 'all', teller: 'all', admin: 'all' },
  'me.totp.disable': { customer: 'all', teller: 'all', admin: 'all' },
  'users.totp.reset': { admin: 'notSelf' },
  // Never the maker: the database refuses it from the session (bank_approval_approve/reject).
  'approvals.list': { teller: 'all', admin: 'all' },
  'approvals.approve': { teller: 'all', admin: 'all' },
  'approvals.reject': { teller: 'all', admin: 'all' },
};

export function isPublic(route: RouteName): boolean {
  const entry = policy[route];
  return 'public' in entry && entry.public === true;
}

/** The grant of `role` on `route`, or undefined when the role may not call it at all. */
export function grantFor(route: RouteName, role: Role): Grant | undefined {
  const entry = policy[route];
  if ('public' in entry) return 'all';
  return entry[role];
}

/** PostgreSQL login role (and so Secrets Manager secret) a token's role runs as. */
export const dbRoleOf: Record<Role, DbRole> = {
  customer: 'bank_customer',
  teller: 'bank_teller',
  admin: 'bank_admin',
};

/**
 * The database roles a route's function holds secrets for: those of the roles allowed to call it,
 * plus bank_customer, the least role, which the audit middleware records refusals with. Login
 * holds bank_auth alone (the only role that can read a password hash, and all it can do is log
 * in and record refused logins). The two routes where a logged-in user gives their password
 * again (me.password, me.totp.disable) also hold bank_auth, for the same reason: only it reads a
 * password hash. Routes without database access (health, openapi) get none.
 */
export function dbRolesFor(route: RouteName): DbRole[] {
  if (route === 'health' || route === 'openapi') return [];
  if (route === 'auth.login') return ['bank_auth'];
  const allowed = new Set<DbRole>(['bank_customer']);
  for (const r of roles) if (grantFor(route, r) !== undefined && !isPublic(route)) allowed.add(dbRoleOf[r]);
  if (route === 'me.password' || route === 'me.totp.disable') return [...allowed, 'bank_auth'];
  return [...allowed];
}
