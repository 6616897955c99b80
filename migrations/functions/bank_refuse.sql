-- A refusal: audited, and returned (not raised) so that what it must keep (the audit event, a
-- wrong-PIN count) commits. 401/403/423/429 are denials; the rest are failures.
CREATE OR REPLACE FUNCTION bank_refuse(c bank_caller, p_action text, p_status integer, p_code text, p_detail text,
                                       p_details jsonb, p_extra jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bank_audit(c, p_action,
                     CASE WHEN p_status IN (401, 403, 423, 429) THEN 'denied' ELSE 'failed' END,
                     coalesce(p_details, '{}'::jsonb) || jsonb_build_object('status', p_status, 'code', p_code));
  RETURN jsonb_build_object('status', p_status,
                            'error', jsonb_build_object('code', p_code, 'detail', p_detail) || p_extra);
END
$$;
REVOKE ALL ON FUNCTION bank_refuse(bank_caller, text, integer, text, text, jsonb, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
