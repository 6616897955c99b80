-- A refusal: audited, and returned (not raised) so that what it must keep (the audit event, a
-- wrong-PIN count) commits. 401/403/423/429 are denials; the rest are failures.
--
-- The event never fails the refusal. Its request id is the caller's word, and the unique index of
-- migration 0012 lets only one event carry it; when one already does (an event planted under it
-- by anyone with a database password, or the audit middleware's for a request whose handler gave
-- up), a failed insert would roll back the wrong-PIN or wrong-code count it commits with: every
-- guess free and unrecorded, and the error telling a right guess (which fails later, at its
-- success event) from a wrong one. So the refusal is then recorded without a request id, the one
-- it claimed kept in its details (requestIdTaken), and its counts commit.
CREATE OR REPLACE FUNCTION bank_refuse(c bank_caller, p_action text, p_status integer, p_code text, p_detail text,
                                       p_details jsonb, p_extra jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_outcome text := CASE WHEN p_status IN (401, 403, 423, 429) THEN 'denied' ELSE 'failed' END;
  v_details jsonb := coalesce(p_details, '{}'::jsonb) || jsonb_build_object('status', p_status, 'code', p_code);
BEGIN
  IF bank_audit_if_new(c, p_action, v_outcome, v_details) IS NULL THEN
    v_details := v_details || jsonb_build_object('requestIdTaken', c.request_id);
    c.request_id := NULL;
    PERFORM bank_audit(c, p_action, v_outcome, v_details);
  END IF;
  RETURN jsonb_build_object('status', p_status,
                            'error', jsonb_build_object('code', p_code, 'detail', p_detail) || p_extra);
END
$$;
REVOKE ALL ON FUNCTION bank_refuse(bank_caller, text, integer, text, text, jsonb, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
