-- Audit sealing. A scheduled sealer (off the request path: it never takes a lock a transfer
-- needs) chains settled audit events by SHA-256 in fixed-size batches and writes each batch with
-- its seal to the log bucket (S3 Object Lock, compliance mode: nobody can rewrite it). A later
-- edit, deletion or insertion in audit_logs no longer matches the bucket: `npm run audit:verify`.

CREATE TABLE audit_seals (
  batch_no bigint PRIMARY KEY CHECK (batch_no >= 1),
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL CHECK (last_seq >= first_seq),
  event_count integer NOT NULL CHECK (event_count BETWEEN 1 AND 10000),
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  batch_hash text NOT NULL CHECK (batch_hash ~ '^[0-9a-f]{64}$'),
  sealed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
  FOR EACH ROW EXECUTE FUNCTION bank_refuse_change();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
  FOR EACH STATEMENT EXECUTE FUNCTION bank_refuse_change();
REVOKE ALL ON audit_seals FROM PUBLIC;

-- The sealed form of one event: jsonb's text output is canonical (keys in a fixed order), so
-- the same row always gives the same line, here and in the verifier.
CREATE FUNCTION bank_audit_line(a audit_logs) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'seq', a.seq, 'id', a.id, 'actor', a.actor, 'action', a.action, 'outcome', a.outcome,
    'details', a.details, 'ip', a.ip, 'userAgent', a.user_agent, 'requestId', a.request_id,
    'createdAt', bank_ts(a.created_at))::text
$$;

-- hash(batch) = sha256(prev_hash || "\n" || line_1 || "\n" || ... || line_n), hex.
CREATE FUNCTION bank_audit_chain_hash(p_prev_hash text, p_lines text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(p_prev_hash || E'\n' || array_to_string(p_lines, E'\n'), 'UTF8')), 'hex')
$$;

-- Seals the next batch: events after the last sealed one, older than p_settle_s seconds (an
-- event's seq is taken when its transaction starts; the settle time lets every transaction that
-- took a lower seq commit first, so a sealed range never gains a late event), at most
-- p_batch_max of them. Returns NULL when there is nothing to seal.
CREATE FUNCTION bank_audit_seal_next(p_batch_max integer, p_settle_s integer) RETURNS jsonb
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
BEGIN
  IF bank_tier() IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN only the sealer (admin tier) seals' USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- One sealer at a time; transfers never take this lock.
  PERFORM pg_advisory_xact_lock(3, 1);
  SELECT * INTO v_last FROM audit_seals ORDER BY batch_no DESC LIMIT 1;
  v_prev := coalesce(v_last.batch_hash, repeat('0', 64));
  SELECT array_agg(bank_audit_line(e) ORDER BY e.seq), min(e.seq), max(e.seq)
    INTO v_lines, v_first, v_last_seq
    FROM (SELECT * FROM audit_logs
           WHERE seq > coalesce(v_last.last_seq, 0) AND created_at < now() - v_settle
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

-- A sealed batch again (to upload one whose upload failed), with the lines as they are NOW:
-- the caller recomputes the hash and refuses to upload a batch that no longer matches its seal.
CREATE FUNCTION bank_audit_seal_get(p_batch_no bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  s audit_seals;
  v_lines text[];
BEGIN
  IF bank_tier() IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN only the sealer (admin tier) reads seals' USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT * INTO s FROM audit_seals WHERE batch_no = p_batch_no;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(bank_audit_line(e) ORDER BY e.seq) INTO v_lines
    FROM audit_logs e WHERE e.seq BETWEEN s.first_seq AND s.last_seq;
  RETURN jsonb_build_object('batchNo', s.batch_no, 'firstSeq', s.first_seq, 'lastSeq', s.last_seq,
                            'prevHash', s.prev_hash, 'hash', s.batch_hash,
                            'lines', coalesce(to_jsonb(v_lines), '[]'::jsonb));
END
$$;

CREATE FUNCTION bank_audit_seal_latest() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce(max(batch_no), 0) FROM audit_seals WHERE bank_tier() = 'admin'
$$;

REVOKE EXECUTE ON FUNCTION bank_audit_line(audit_logs), bank_audit_chain_hash(text, text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION bank_audit_seal_next(integer, integer), bank_audit_seal_get(bigint),
  bank_audit_seal_latest() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bank_audit_seal_next(integer, integer), bank_audit_seal_get(bigint),
  bank_audit_seal_latest() TO bank_admin;
