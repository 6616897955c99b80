-- Sealing, second form: the audit trail, the ledger (`history`) and each account's balance are
-- sealed together, by row identity and transaction visibility instead of seq ranges and a settle
-- time, so that no committed row escapes sealing whatever its seq, timestamp or how long its
-- transaction stayed open. The format is described for auditors in docs/audit-format.md.
--
-- What a batch is: the rows visible to the sealer's snapshot and not yet sealed (at most
-- p_lines_max lines, bounded in bytes for the Data API), each line carrying its inserting
-- transaction id; a header line records the snapshot (xmin, xmax) and the seq high-water marks
-- read just before it. The verifier uses those to tell a legitimately slow transaction from a
-- row inserted after sealing with a seq that had already been handed out.
--
-- The first form (0005: audit_seals, seq ranges) is retired: its functions are dropped, its
-- table and its objects under audit/batches/ stay as they are, and the new chain starts at
-- genesis with every row, under seals/batches/.

DROP FUNCTION bank_audit_seal_next(integer, integer);
DROP FUNCTION bank_audit_seal_get(bigint);
DROP FUNCTION bank_audit_seal_latest();

-- A row's transaction id is assigned before its seq is drawn: a BEFORE ... FOR EACH STATEMENT
-- trigger runs before the statement evaluates any column default (nextval). Without it a
-- statement could draw its seq before the sealer read the high-water mark and get its
-- transaction id after the sealer's snapshot, which the verifier would read as a late insert.
-- (This holds for rows written by the top-level transaction; the bank's functions write
-- audit_logs and history outside any EXCEPTION block, so no row gets a subtransaction's id.)
CREATE FUNCTION bank_xid_first() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_current_xact_id();
  RETURN NULL;
END
$$;
CREATE TRIGGER audit_logs_xid_first BEFORE INSERT ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION bank_xid_first();
CREATE TRIGGER history_xid_first BEFORE INSERT ON history
  FOR EACH STATEMENT EXECUTE FUNCTION bank_xid_first();

CREATE TABLE seal_batches (
  batch_no bigint PRIMARY KEY CHECK (batch_no >= 1),
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  batch_hash text NOT NULL CHECK (batch_hash ~ '^[0-9a-f]{64}$'),
  line_count integer NOT NULL CHECK (line_count >= 2),
  sealed_at timestamptz NOT NULL DEFAULT now()
);

-- Which rows are sealed, by primary key: what the sealer skips next time. A member deleted by
-- the owner makes the sealer seal the row again, which the verifier reports (sealed twice).
CREATE TABLE seal_members (
  kind text NOT NULL CHECK (kind IN ('audit', 'history')),
  row_id uuid NOT NULL,
  batch_no bigint NOT NULL REFERENCES seal_batches (batch_no),
  PRIMARY KEY (kind, row_id)
);

CREATE TRIGGER seal_batches_append_only BEFORE UPDATE OR DELETE ON seal_batches
  FOR EACH ROW EXECUTE FUNCTION bank_refuse_change();
CREATE TRIGGER seal_batches_no_truncate BEFORE TRUNCATE ON seal_batches
  FOR EACH STATEMENT EXECUTE FUNCTION bank_refuse_change();
CREATE TRIGGER seal_members_append_only BEFORE UPDATE OR DELETE ON seal_members
  FOR EACH ROW EXECUTE FUNCTION bank_refuse_change();
CREATE TRIGGER seal_members_no_truncate BEFORE TRUNCATE ON seal_members
  FOR EACH STATEMENT EXECUTE FUNCTION bank_refuse_change();

-- A sealed batch's exact text until the bucket has it: an upload can fail after the seal
-- committed, and balances cannot be rebuilt later. Deleted once uploaded; the sealer rehashes
-- it before uploading, so an edit here is refused, not published.
CREATE TABLE seal_uploads (
  batch_no bigint PRIMARY KEY REFERENCES seal_batches (batch_no),
  body jsonb NOT NULL
);
REVOKE ALL ON seal_batches, seal_members, seal_uploads FROM PUBLIC;

-- The full 64-bit id of a transaction from a row's 32-bit xmin, relative to a later full id
-- (the snapshot's xmax). Exact for any row younger than 2^32 transactions, which every row the
-- sealer sees for the first time is.
CREATE FUNCTION bank_xid8(p_xmin xid, p_ref xid8) RETURNS xid8
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ((p_ref::text::bigint)
          - (((p_ref::text::bigint & 4294967295) - p_xmin::text::bigint + 4294967296) % 4294967296))::text::xid8
$$;

-- The sealed lines: jsonb text is canonical (keys by length, then bytes), so the verifier can
-- rebuild the same text from raw columns. Money and transaction ids are strings (exact in any
-- JSON reader); seqs and account ids are numbers.
CREATE FUNCTION bank_seal_audit_line(a audit_logs, p_xid xid8) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'kind', 'audit', 'id', a.id, 'seq', a.seq, 'xid', p_xid::text, 'actor', a.actor,
    'action', a.action, 'outcome', a.outcome, 'details', a.details, 'ip', a.ip,
    'userAgent', a.user_agent, 'requestId', a.request_id, 'createdAt', bank_ts(a.created_at))::text
$$;

CREATE FUNCTION bank_seal_history_line(h history, p_xid xid8) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'kind', 'history', 'id', h.id, 'seq', h.seq, 'xid', p_xid::text, 'accountId', h.account_id,
    'type', h.type, 'amountMinor', h.amount_minor::text, 'balanceAfterMinor', h.balance_after_minor::text,
    'counterpartyAccountId', h.counterparty_account_id, 'transferId', h.transfer_id, 'memo', h.memo,
    'actorId', h.actor_id, 'createdAt', bank_ts(h.created_at))::text
$$;

-- Seals the next batch and returns {batchNo, hash, body}; NULL when nothing is left to seal.
-- Off the request path: it takes no lock a transfer needs (an advisory lock of its own, plain
-- reads, inserts into its own tables).
CREATE FUNCTION bank_seal_next(p_lines_max integer, p_bytes_max integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_lines_max integer := least(greatest(coalesce(p_lines_max, 1000), 1), 10000);
  v_bytes_max integer := least(greatest(coalesce(p_bytes_max, 400000), 1000), 600000);
  v_audit_high bigint;
  v_history_high bigint;
  v_snap pg_snapshot;
  v_audit text[];
  v_history text[];
  v_balances text[];
  v_audit_ids uuid[];
  v_history_ids uuid[];
  v_complete boolean;
  v_last seal_batches;
  v_prev text;
  v_batch bigint;
  v_lines text[];
  v_hash text;
  v_body jsonb;
BEGIN
  IF bank_tier() IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN only the sealer (admin tier) seals' USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(3, 2);
  -- High-water marks first, snapshot second (see bank_xid_first).
  v_audit_high := coalesce(pg_sequence_last_value(pg_get_serial_sequence('audit_logs', 'seq')::regclass), 0);
  v_history_high := coalesce(pg_sequence_last_value(pg_get_serial_sequence('history', 'seq')::regclass), 0);
  -- One statement, one snapshot: the rows chosen, the balances read and the snapshot recorded
  -- all agree.
  WITH snap AS (SELECT pg_current_snapshot() AS s),
  -- Every unsealed row, cheaply (no line text yet): a large backlog is sorted, not serialised.
  cand AS (
    SELECT 'audit'::text AS kind, e.id, e.seq, NULL::bigint AS account_id,
           bank_xid8(e.xmin, pg_snapshot_xmax(snap.s)) AS xid
      FROM audit_logs e, snap
     WHERE NOT EXISTS (SELECT 1 FROM seal_members m WHERE m.kind = 'audit' AND m.row_id = e.id)
    UNION ALL
    SELECT 'history', h.id, h.seq, h.account_id, bank_xid8(h.xmin, pg_snapshot_xmax(snap.s))
      FROM history h, snap
     WHERE NOT EXISTS (SELECT 1 FROM seal_members m WHERE m.kind = 'history' AND m.row_id = h.id)
  ),
  -- The oldest transactions first, at most p_lines_max rows, then only as many as fit the bytes.
  head AS (
    SELECT c.*,
           CASE c.kind
             WHEN 'audit' THEN (SELECT bank_seal_audit_line(e, c.xid) FROM audit_logs e WHERE e.id = c.id)
             ELSE (SELECT bank_seal_history_line(h, c.xid) FROM history h WHERE h.id = c.id)
           END AS line
      FROM cand c ORDER BY c.xid, c.kind, c.seq, c.id LIMIT v_lines_max
  ),
  ranked AS (
    SELECT h.*, row_number() OVER w AS n, sum(octet_length(h.line) + 1) OVER w AS bytes
      FROM head h WINDOW w AS (ORDER BY h.xid, h.kind, h.seq, h.id)
  ),
  chosen AS (
    SELECT * FROM ranked WHERE n = 1 OR bytes <= v_bytes_max
  ),
  -- An account's balance is sealed with the batch that takes the last of its unsealed entries:
  -- then it equals the sum of its entries sealed so far.
  settled_accounts AS (
    SELECT DISTINCT c.account_id FROM chosen c
     WHERE c.kind = 'history'
       AND NOT EXISTS (SELECT 1 FROM cand r WHERE r.kind = 'history' AND r.account_id = c.account_id
                          AND NOT EXISTS (SELECT 1 FROM chosen x WHERE x.kind = 'history' AND x.id = r.id))
  )
  SELECT snap.s,
         (SELECT array_agg(line ORDER BY seq, id) FROM chosen WHERE kind = 'audit'),
         (SELECT array_agg(line ORDER BY seq, id) FROM chosen WHERE kind = 'history'),
         (SELECT array_agg(jsonb_build_object('kind', 'balance', 'accountId', a.id, 'accountNo', a.account_no,
                                              'balanceMinor', a.balance_minor::text)::text ORDER BY a.id)
            FROM accounts a JOIN settled_accounts s ON s.account_id = a.id),
         (SELECT array_agg(id) FROM chosen WHERE kind = 'audit'),
         (SELECT array_agg(id) FROM chosen WHERE kind = 'history'),
         (SELECT count(*) FROM chosen) = (SELECT count(*) FROM cand)
    INTO v_snap, v_audit, v_history, v_balances, v_audit_ids, v_history_ids, v_complete
    FROM snap;
  IF v_audit IS NULL AND v_history IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT * INTO v_last FROM seal_batches ORDER BY batch_no DESC LIMIT 1;
  v_prev := coalesce(v_last.batch_hash, repeat('0', 64));
  v_batch := coalesce(v_last.batch_no, 0) + 1;
  v_lines := ARRAY[jsonb_build_object(
      'kind', 'batch', 'batchNo', v_batch, 'sealedAt', bank_ts(clock_timestamp()),
      'xmin', pg_snapshot_xmin(v_snap)::text, 'xmax', pg_snapshot_xmax(v_snap)::text,
      'auditSeqHigh', v_audit_high, 'historySeqHigh', v_history_high, 'complete', v_complete)::text]
    || coalesce(v_audit, '{}') || coalesce(v_history, '{}') || coalesce(v_balances, '{}');
  v_hash := bank_audit_chain_hash(v_prev, v_lines);
  INSERT INTO seal_batches (batch_no, prev_hash, batch_hash, line_count)
  VALUES (v_batch, v_prev, v_hash, cardinality(v_lines));
  INSERT INTO seal_members (kind, row_id, batch_no)
  SELECT 'audit', u, v_batch FROM unnest(coalesce(v_audit_ids, '{}')) u
  UNION ALL
  SELECT 'history', u, v_batch FROM unnest(coalesce(v_history_ids, '{}')) u;
  v_body := jsonb_build_object('format', 'bank-seal/2', 'batchNo', v_batch, 'prevHash', v_prev,
                               'hash', v_hash, 'lines', to_jsonb(v_lines));
  INSERT INTO seal_uploads (batch_no, body) VALUES (v_batch, v_body);
  RETURN jsonb_build_object('batchNo', v_batch, 'hash', v_hash, 'body', v_body);
END
$$;

-- Batches sealed but not yet confirmed in the bucket, oldest first (at most p_max).
CREATE FUNCTION bank_seal_pending(p_max integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF bank_tier() IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN only the sealer (admin tier) reads seals' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN coalesce((
    SELECT jsonb_agg(jsonb_build_object('batchNo', s.batch_no, 'hash', s.batch_hash, 'body', u.body)
                     ORDER BY s.batch_no)
      FROM (SELECT * FROM seal_uploads ORDER BY batch_no LIMIT least(greatest(p_max, 1), 10)) u
      JOIN seal_batches s USING (batch_no)), '[]'::jsonb);
END
$$;

CREATE FUNCTION bank_seal_uploaded(p_batch_no bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF bank_tier() IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN only the sealer (admin tier) confirms uploads' USING ERRCODE = 'insufficient_privilege';
  END IF;
  DELETE FROM seal_uploads WHERE batch_no = p_batch_no;
END
$$;

REVOKE EXECUTE ON FUNCTION bank_xid8(xid, xid8), bank_seal_audit_line(audit_logs, xid8),
  bank_seal_history_line(history, xid8) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION bank_seal_next(integer, integer), bank_seal_pending(integer),
  bank_seal_uploaded(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bank_seal_next(integer, integer), bank_seal_pending(integer),
  bank_seal_uploaded(bigint) TO bank_admin;

-- The verifier's read-only role: raw rows (with xmin), the seals and the sequences; no
-- function, no write. In the cloud it has its own secret; it cannot log in until a password is
-- set for it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bank_auditor') THEN
    CREATE ROLE bank_auditor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT 5;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO bank_auditor;
GRANT SELECT ON audit_logs, history, seal_batches, seal_members TO bank_auditor;
GRANT SELECT (id, account_no, balance_minor) ON accounts TO bank_auditor;
GRANT SELECT ON SEQUENCE audit_logs_seq_seq, history_seq_seq TO bank_auditor;

-- Sets the auditor's password from its secret (migration runner; tests). Owner only, like
-- bank_set_role_password, which admits only the three application roles.
CREATE FUNCTION bank_set_auditor_password(p_password text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_password IS NULL OR length(p_password) < 16 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED password too short';
  END IF;
  EXECUTE format('ALTER ROLE bank_auditor WITH PASSWORD %L', p_password);
END
$$;
REVOKE EXECUTE ON FUNCTION bank_set_auditor_password(text) FROM PUBLIC;
