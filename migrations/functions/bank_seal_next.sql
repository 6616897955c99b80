-- Seals the next batch and returns {batchNo, hash, body}; NULL when nothing is left to seal.
-- Off the request path: it takes no lock a transfer needs (an advisory lock of its own, plain
-- reads, inserts into its own tables). The format is described for auditors in
-- docs/audit-format.md.
--
-- What a batch is: the rows visible to the sealer's snapshot and not yet sealed (at most
-- p_lines_max lines, bounded in bytes for the Data API), each line carrying its inserting
-- transaction id; a header line records the snapshot (xmin, xmax), the seq high-water marks read
-- just before it, and `seqHighXid`: the sealer's own transaction id, assigned right after the
-- marks are read and before the snapshot. Every transaction that drew a seq up to the marks took
-- its id before that (bank_xid_first), so has a lower id; a row with an id at or above it and a
-- seq within the marks was inserted under a number handed out before sealing. The verifier uses
-- it (and the xmax of batches sealed before 0010) to tell a legitimately slow transaction from a
-- row inserted after sealing.
CREATE OR REPLACE FUNCTION bank_seal_next(p_lines_max integer, p_bytes_max integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_lines_max integer := least(greatest(coalesce(p_lines_max, 1000), 1), 10000);
  v_bytes_max integer := least(greatest(coalesce(p_bytes_max, 400000), 1000), 600000);
  v_audit_high bigint;
  v_history_high bigint;
  v_seq_high_xid xid8;
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
  -- The bound that goes with those marks: this transaction's own id, taken after them. Any
  -- transaction that drew a seq up to the marks had its id before drawing it (bank_xid_first),
  -- so before this one: its id is lower. The snapshot's xmax cannot serve: it is the newest
  -- *finished* transaction plus one, and transactions still running may hold ids at or above it
  -- with seqs already drawn (right after a restart, every transaction does).
  v_seq_high_xid := pg_current_xact_id();
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
      'auditSeqHigh', v_audit_high, 'historySeqHigh', v_history_high,
      'seqHighXid', v_seq_high_xid::text, 'complete', v_complete)::text]
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
REVOKE ALL ON FUNCTION bank_seal_next(integer, integer) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_seal_next(integer, integer) TO bank_admin;
