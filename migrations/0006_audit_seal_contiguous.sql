-- Sealing takes a contiguous run of settled events. An event's seq is drawn when its row is
-- inserted, at the end of its operation, while created_at is its transaction's start: an
-- operation that waited on a row lock has an older created_at than events with lower seqs. The
-- first version sealed every settled event after the last seal, so it could seal a younger
-- event's successors and skip the younger event itself, which the verifier then reports as
-- inserted into a sealed batch (found by the chaos harness under load). Now the first event that
-- has not settled ends the batch.

CREATE OR REPLACE FUNCTION bank_audit_seal_next(p_batch_max integer, p_settle_s integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_batch_max integer := least(greatest(coalesce(p_batch_max, 1000), 1), 10000);
  v_settle interval := make_interval(secs => least(greatest(coalesce(p_settle_s, 60), 0), 3600));
  v_last audit_seals;
  v_prev text;
  v_lines text[];
  v_first bigint;
  v_last_seq bigint;
  v_hash text;
  v_batch bigint;
  v_young bigint;
BEGIN
  IF bank_tier() IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN only the sealer (admin tier) seals' USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- One sealer at a time; transfers never take this lock.
  PERFORM pg_advisory_xact_lock(3, 1);
  SELECT * INTO v_last FROM audit_seals ORDER BY batch_no DESC LIMIT 1;
  v_prev := coalesce(v_last.batch_hash, repeat('0', 64));
  -- The first event not yet settled ends the batch: nothing at or after it is sealed this run.
  SELECT min(seq) INTO v_young FROM audit_logs
   WHERE seq > coalesce(v_last.last_seq, 0) AND created_at >= now() - v_settle;
  SELECT array_agg(bank_audit_line(e) ORDER BY e.seq), min(e.seq), max(e.seq)
    INTO v_lines, v_first, v_last_seq
    FROM (SELECT * FROM audit_logs
           WHERE seq > coalesce(v_last.last_seq, 0) AND (v_young IS NULL OR seq < v_young)
             AND created_at < now() - v_settle
           ORDER BY seq LIMIT v_batch_max) e;
  IF v_lines IS NULL THEN
    RETURN NULL;
  END IF;
  v_hash := bank_audit_chain_hash(v_prev, v_lines);
  v_batch := coalesce(v_last.batch_no, 0) + 1;
  INSERT INTO audit_seals (batch_no, first_seq, last_seq, event_count, prev_hash, batch_hash)
  VALUES (v_batch, v_first, v_last_seq, cardinality(v_lines), v_prev, v_hash);
  RETURN jsonb_build_object('batchNo', v_batch, 'firstSeq', v_first, 'lastSeq', v_last_seq,
                            'prevHash', v_prev, 'hash', v_hash, 'lines', to_jsonb(v_lines));
END
$$;
