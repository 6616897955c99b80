/**
 * The PostgreSQL login roles; each sits behind its own Secrets Manager secret. The three tiers
 * serve requests by the token's role; bank_auth is the login-only role (auth-login alone holds
 * it): the only one that can read a password hash, and it can do nothing else.
 */
export const dbRoles = ['bank_customer', 'bank_teller', 'bank_admin', 'bank_auth'] as const;
export type DbRole = (typeof dbRoles)[number];
