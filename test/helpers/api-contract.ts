/**
 * The route table of the API contract (API.md, "Routes"), written by hand from the contract, not
 * imported from functions/routes.ts: a route the code lost or renamed must fail the tests.
 */
export const apiContractRoutes: readonly string[] = [
  'GET /health',
  'POST /auth/login',
  'POST /auth/logout',
  'POST /auth/refresh',
  'GET /me',
  'POST /users',
  'GET /users',
  'POST /accounts',
  'GET /accounts',
  'GET /accounts/{accountNo}',
  'POST /accounts/{accountNo}/deposit',
  'POST /accounts/{accountNo}/withdraw',
  'POST /transfers',
  'POST /accounts/{accountNo}/lock',
  'POST /accounts/{accountNo}/unlock',
  'GET /accounts/{accountNo}/history',
  'GET /audit-logs',
  'GET /approvals',
  'POST /approvals/{approvalId}/approve',
  'POST /approvals/{approvalId}/reject',
  'GET /openapi.json',
  // v1.1 "Sessions and credentials" and "Step-up" (the daily limit and approvals are not here yet).
  'POST /me/password',
  'POST /users/{userId}/password',
  'POST /users/{userId}/disable',
  'POST /users/{userId}/enable',
  'POST /accounts/{accountNo}/pin',
  'GET /transfers/{transferId}',
  'POST /me/totp',
  'POST /me/totp/confirm',
  'POST /me/totp/disable',
  'POST /users/{userId}/totp/reset',
];
