/**
 * The one route manifest. The local gateway (local/gateway.ts) and the CDK stack (cdk/) both read
 * this list; nothing else may declare routes. `entry` is the handler module under functions/,
 * exporting `handler`. Who may call a route is not here: it is the RBAC policy table in
 * shared/auth/policy.ts, keyed by the same `name`.
 */
export type HttpMethod = 'GET' | 'POST';

export interface RouteDef {
  /** Stable operation name: RBAC policy key, audit `action`, Lambda function id. */
  readonly name: string;
  readonly method: HttpMethod;
  /** API Gateway HTTP API path, `{param}` for path parameters. */
  readonly path: string;
  /** Handler module, relative to functions/, without extension. */
  readonly entry: string;
}

export const routes = [
  { name: 'health', method: 'GET', path: '/health', entry: 'health' },
  { name: 'openapi', method: 'GET', path: '/openapi.json', entry: 'openapi' },
  { name: 'auth.login', method: 'POST', path: '/auth/login', entry: 'auth-login' },
  { name: 'auth.logout', method: 'POST', path: '/auth/logout', entry: 'auth-logout' },
  { name: 'auth.refresh', method: 'POST', path: '/auth/refresh', entry: 'auth-refresh' },
  { name: 'me.get', method: 'GET', path: '/me', entry: 'me-get' },
  { name: 'users.create', method: 'POST', path: '/users', entry: 'users-create' },
  { name: 'users.list', method: 'GET', path: '/users', entry: 'users-list' },
  { name: 'accounts.create', method: 'POST', path: '/accounts', entry: 'accounts-create' },
  { name: 'accounts.list', method: 'GET', path: '/accounts', entry: 'accounts-list' },
  { name: 'accounts.get', method: 'GET', path: '/accounts/{accountNo}', entry: 'accounts-get' },
  {
    name: 'accounts.deposit',
    method: 'POST',
    path: '/accounts/{accountNo}/deposit',
    entry: 'accounts-deposit',
  },
  {
    name: 'accounts.withdraw',
    method: 'POST',
    path: '/accounts/{accountNo}/withdraw',
    entry: 'accounts-withdraw',
  },
  { name: 'transfers.create', method: 'POST', path: '/transfers', entry: 'transfers-create' },
  { name: 'accounts.lock', method: 'POST', path: '/accounts/{accountNo}/lock', entry: 'accounts-lock' },
  { name: 'accounts.unlock', method: 'POST', path: '/accounts/{accountNo}/unlock', entry: 'accounts-unlock' },
  {
    name: 'accounts.history',
    method: 'GET',
    path: '/accounts/{accountNo}/history',
    entry: 'accounts-history',
  },
  { name: 'auditLogs.list', method: 'GET', path: '/audit-logs', entry: 'audit-logs-list' },
  { name: 'me.password', method: 'POST', path: '/me/password', entry: 'me-password' },
  { name: 'users.password', method: 'POST', path: '/users/{userId}/password', entry: 'users-password' },
  { name: 'users.disable', method: 'POST', path: '/users/{userId}/disable', entry: 'users-disable' },
  { name: 'users.enable', method: 'POST', path: '/users/{userId}/enable', entry: 'users-enable' },
  { name: 'accounts.pin', method: 'POST', path: '/accounts/{accountNo}/pin', entry: 'accounts-pin' },
  { name: 'transfers.get', method: 'GET', path: '/transfers/{transferId}', entry: 'transfers-get' },
  { name: 'me.totp.enrol', method: 'POST', path: '/me/totp', entry: 'me-totp-enrol' },
  { name: 'me.totp.confirm', method: 'POST', path: '/me/totp/confirm', entry: 'me-totp-confirm' },
  { name: 'me.totp.disable', method: 'POST', path: '/me/totp/disable', entry: 'me-totp-disable' },
  {
    name: 'users.totp.reset',
    method: 'POST',
    path: '/users/{userId}/totp/reset',
    entry: 'users-totp-reset',
  },
  { name: 'approvals.list', method: 'GET', path: '/approvals', entry: 'approvals-list' },
  {
    name: 'approvals.approve',
    method: 'POST',
    path: '/approvals/{approvalId}/approve',
    entry: 'approvals-approve',
  },
  {
    name: 'approvals.reject',
    method: 'POST',
    path: '/approvals/{approvalId}/reject',
    entry: 'approvals-reject',
  },
] as const satisfies readonly RouteDef[];

export type RouteName = (typeof routes)[number]['name'];

/**
 * Functions that are not HTTP routes: deploy-time migrations, the scheduled audit sealer, and the
 * Secrets Manager rotations of the database role secrets and the JWT signing key.
 */
export const backgroundFunctions = [
  { name: 'migrate', entry: 'migrate' },
  { name: 'audit.seal', entry: 'audit-seal' },
  { name: 'rotate.dbSecret', entry: 'rotate-db-secret' },
  { name: 'rotate.jwtKey', entry: 'rotate-jwt-key' },
] as const;
