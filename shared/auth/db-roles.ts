/** The three PostgreSQL login roles; each sits behind its own Secrets Manager secret. */
export const dbRoles = ['bank_customer', 'bank_teller', 'bank_admin'] as const;
export type DbRole = (typeof dbRoles)[number];
