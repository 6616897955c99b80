import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { type FsBucket, fsBucket } from '../../local/log-bucket';
import { readDbState } from '../../shared/audit/db-reader';
import { type SealOptions, type SealReport, sealPending } from '../../shared/audit/sealer';
import { pgSealCall, pgSession } from '../../shared/audit/sessions';
import { type VerifyReport, verifySeals } from '../../shared/audit/verify';
import { createTestDatabase, type TestDatabase } from './db';

/**
 * A sealed bank in miniature for the sealing and tamper tests: its own database (cloned from
 * the migrated template), its own write-once bucket directory, a few customers' accounts with
 * deposits, a withdrawal and a transfer, each with its audit event. Rows are written the way the
 * bank's functions write them (one transaction per movement, balance and entries together), as
 * the owner with the triggers on; the sealer runs as bank_admin, the verifier reads as the owner.
 */
export interface SealWorld {
  readonly db: TestDatabase;
  readonly bucketDir: string;
  readonly bucket: FsBucket;
  readonly accounts: { readonly a: Account; readonly b: Account };
  seal(options?: Omit<SealOptions, 'bucket' | 'call'>): Promise<SealReport>;
  verify(): Promise<VerifyReport>;
  /** Runs SQL as the owner with every trigger bypassed, as a superuser can: one statement, or several in one session. */
  tamper(sql: string | ReadonlyArray<readonly [string, unknown[]?]>, params?: unknown[]): Promise<void>;
  /** A plain superuser connection (caller ends it). */
  connect(): Promise<pg.Client>;
  /** One money movement and its audit event, committed. */
  move(account: Account, type: 'DEPOSIT' | 'WITHDRAWAL', amountMinor: bigint): Promise<void>;
  audit(action: string): Promise<void>;
  rows<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface Account {
  readonly id: string;
  readonly no: string;
}

const hash = '$2a$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzABCDE';

export async function sealWorld(): Promise<SealWorld> {
  const db = await createTestDatabase();
  const bucketDir = await mkdtemp(path.join(tmpdir(), 'bank-seal-'));
  const bucket = fsBucket(bucketDir);
  const connect = async (as: 'superuser' | 'bank_admin' = 'superuser') => {
    const client = db.client(as);
    await client.connect();
    return client;
  };
  const rows = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => {
    const client = await connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  const [user] = await rows<{ id: string }>(
    "INSERT INTO users (username, password_hash, role) VALUES ('sealed-customer', $1, 'customer') RETURNING id::text",
    [hash],
  );
  const userId = user?.id ?? '';
  const open = async (no: string): Promise<Account> => {
    const [row] = await rows<{ id: string }>(
      "INSERT INTO accounts (account_no, name, user_id, pin_hash) VALUES ($1, 'Main', $2, $3) RETURNING id::text",
      [no, userId, hash],
    );
    return { id: row?.id ?? '', no };
  };
  const a = await open('400000000018');
  const b = await open('400000000026');

  const world: SealWorld = {
    db,
    bucketDir,
    bucket,
    accounts: { a, b },
    async seal(options = {}) {
      const client = await connect('bank_admin');
      try {
        return await sealPending({ bucket, call: pgSealCall(client), ...options });
      } finally {
        await client.end();
      }
    },
    async verify() {
      const client = await connect();
      try {
        return await verifySeals(bucket, await readDbState(pgSession(client)));
      } finally {
        await client.end();
      }
    },
    async tamper(sql, params = []) {
      const client = await connect();
      try {
        await client.query('SET session_replication_role = replica');
        for (const [text, values] of typeof sql === 'string' ? [[sql, params] as const] : sql) {
          await client.query(text, values ?? []);
        }
      } finally {
        await client.end();
      }
    },
    connect: () => connect(),
    async move(account, type, amountMinor) {
      const client = await connect();
      try {
        await client.query('BEGIN');
        const signed = type === 'DEPOSIT' ? amountMinor : -amountMinor;
        const updated = await client.query<{ balance: string }>(
          'UPDATE accounts SET balance_minor = balance_minor + $2::bigint WHERE id = $1 RETURNING balance_minor::text AS balance',
          [account.id, signed.toString()],
        );
        await client.query(
          `INSERT INTO history (account_id, type, amount_minor, balance_after_minor, actor_id)
           VALUES ($1, $2, $3::bigint, $4::bigint, $5)`,
          [account.id, type, amountMinor.toString(), updated.rows[0]?.balance, userId],
        );
        await client.query(
          `INSERT INTO audit_logs (actor, action, outcome, details) VALUES ('sealed-customer', $1, 'success', $2)`,
          [
            type === 'DEPOSIT' ? 'accounts.deposit' : 'accounts.withdraw',
            { accountNo: account.no, amount: amountMinor.toString() },
          ],
        );
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
    },
    async audit(action) {
      await rows(
        "INSERT INTO audit_logs (actor, action, outcome) VALUES ('sealed-customer', $1, 'success')",
        [action],
      );
    },
    rows,
    async close() {
      await db.drop();
      await rm(bucketDir, { recursive: true, force: true });
    },
  };
  await world.move(a, 'DEPOSIT', 10_000n);
  await world.move(b, 'DEPOSIT', 5_000n);
  await world.move(a, 'WITHDRAWAL', 2_550n);
  await world.audit('me.get');
  return world;
}
