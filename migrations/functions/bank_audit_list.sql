CREATE OR REPLACE FUNCTION bank_audit_list(p_ctx jsonb, p_actor text, p_action text, p_outcome text,
                                p_account_no text, p_from timestamptz, p_to timestamptz,
                                p_limit integer, p_before bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_items jsonb;
  v_next bigint;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['admin']);
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'id', l.id, 'actor', l.actor, 'action', l.action, 'outcome', l.outcome, 'details', l.details,
           'ip', l.ip, 'userAgent', l.user_agent, 'requestId', l.request_id, 'createdAt', bank_ts(l.created_at))
           ORDER BY l.seq DESC), '[]'::jsonb), min(l.seq)
    INTO v_items, v_next
    FROM (SELECT * FROM audit_logs
           WHERE (p_actor IS NULL OR actor = p_actor) AND (p_action IS NULL OR action = p_action)
             AND (p_outcome IS NULL OR outcome = p_outcome)
             AND (p_from IS NULL OR created_at >= p_from) AND (p_to IS NULL OR created_at < p_to)
             AND (p_account_no IS NULL OR p_account_no IN (details ->> 'accountNo', details ->> 'fromAccountNo', details ->> 'toAccountNo')) AND (p_before IS NULL OR seq < p_before)
           ORDER BY seq DESC LIMIT v_limit) l;
  IF NOT EXISTS (SELECT 1 FROM audit_logs
                  WHERE (p_actor IS NULL OR actor = p_actor) AND (p_action IS NULL OR action = p_action)
                    AND (p_outcome IS NULL OR outcome = p_outcome)
             AND (p_from IS NULL OR created_at >= p_from) AND (p_to IS NULL OR created_at < p_to)
             AND (p_account_no IS NULL OR p_account_no IN (details ->> 'accountNo', details ->> 'fromAccountNo', details ->> 'toAccountNo')) AND seq < v_next) THEN
    v_next := NULL;
  END IF;
  -- Recorded after the read, so a page never contains its own request.
  PERFORM bank_audit(c, 'auditLogs.list', 'success',
                     jsonb_strip_nulls(jsonb_build_object('actor', p_actor, 'action', p_action, 'outcome', p_outcome,
                                                        'accountNo', p_account_no, 'from', bank_ts(p_from), 'to', bank_ts(p_to))));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items), 'next', v_next);
END
$$;
REVOKE ALL ON FUNCTION bank_audit_list(jsonb, text, text, text, text, timestamptz, timestamptz, integer, bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_audit_list(jsonb, text, text, text, text, timestamptz, timestamptz, integer, bigint) TO bank_admin;
