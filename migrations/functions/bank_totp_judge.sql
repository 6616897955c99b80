-- Judges one code against a user's TOTP row, which the caller holds locked (FOR UPDATE), so
-- concurrent uses of one code are judged one at a time: the first takes the time step, every
-- other sees it taken. Accepts the current 30-second step and one either side, only steps after
-- the last accepted one (a code is accepted once). A wrong or reused code counts; the fifth in a
-- row blocks the user's codes for 15 minutes. Returns 'ok' or 'invalid'; the counters are
-- updated in the caller's transaction, which commits them because refusals are returned.
CREATE OR REPLACE FUNCTION bank_totp_judge(t user_totp, p_otp text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := floor(extract(epoch FROM clock_timestamp()) / 30)::bigint;
  v_step bigint;
BEGIN
  IF p_otp ~ '^[0-9]{6}$' THEN
    FOR s IN v_now - 1 .. v_now + 1 LOOP
      IF (t.last_step IS NULL OR s > t.last_step) AND bank_hotp(t.secret, s) = p_otp THEN
        v_step := s;
        EXIT;
      END IF;
    END LOOP;
  END IF;
  IF v_step IS NOT NULL THEN
    UPDATE user_totp SET last_step = v_step, failures = 0, blocked_until = NULL WHERE user_id = t.user_id;
    RETURN 'ok';
  END IF;
  UPDATE user_totp
     SET failures = CASE WHEN failures + 1 >= 5 THEN 0 ELSE failures + 1 END,
         blocked_until = CASE WHEN failures + 1 >= 5 THEN now() + interval '15 minutes' ELSE blocked_until END
   WHERE user_id = t.user_id;
  RETURN 'invalid';
END
$$;
REVOKE ALL ON FUNCTION bank_totp_judge(user_totp, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
