-- The PIN verdict, reached here and nowhere else. The caller holds the account's row lock (FOR
-- UPDATE, taken by the movement), so attempts on one account are judged one at a time: a burst
-- of concurrent wrong guesses gets exactly MAX_PIN_ATTEMPTS comparisons and then 423, and
-- concurrent correct PINs never count against each other. Returns NULL when the PIN is right
-- (the wrong-PIN count starts again), else the refusal (already audited; the count and any
-- lock commit with it because the refusal is returned, not raised).
CREATE OR REPLACE FUNCTION bank_pin_verify(c bank_caller, a accounts, p_pin text, p_action text, p_details jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_max constant integer := bank_max_pin_attempts();
  v_remaining integer;
BEGIN
  IF p_pin IS NULL OR p_pin !~ '^[0-9]{4,6}$' THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED a customer must give the account PIN (4 to 6 digits)';
  END IF;
  IF a.is_locked THEN
    RETURN bank_refuse(c, p_action, 423, 'ACCOUNT_LOCKED', 'the account is locked', p_details);
  END IF;
  IF a.failed_attempts >= v_max THEN
    -- Only after the limit was lowered; no comparison beyond it.
    UPDATE accounts SET is_locked = true, locked_reason = 'too many wrong PINs' WHERE id = a.id;
    RETURN bank_refuse(c, p_action, 423, 'ACCOUNT_LOCKED', 'the account is locked', p_details);
  END IF;
  IF crypt(p_pin, a.pin_hash) = a.pin_hash THEN
    IF a.failed_attempts <> 0 OR substr(a.pin_hash, 5, 2)::integer <> bank_pin_cost() THEN
      UPDATE accounts
         SET failed_attempts = 0,
             pin_hash = CASE WHEN substr(pin_hash, 5, 2)::integer = bank_pin_cost() THEN pin_hash
                             ELSE bank_pin_hash(p_pin) END
       WHERE id = a.id;
    END IF;
    RETURN NULL;
  END IF;
  UPDATE accounts
     SET failed_attempts = failed_attempts + 1,
         is_locked = failed_attempts + 1 >= v_max,
         locked_reason = CASE WHEN failed_attempts + 1 >= v_max THEN 'too many wrong PINs' ELSE locked_reason END
   WHERE id = a.id
  RETURNING * INTO a;
  v_remaining := greatest(v_max - a.failed_attempts, 0);
  RETURN bank_refuse(c, p_action, 403, 'INVALID_PIN', 'the PIN is wrong',
                     p_details || jsonb_build_object('attemptsRemaining', v_remaining),
                     jsonb_build_object('attemptsRemaining', v_remaining));
END
$$;
REVOKE ALL ON FUNCTION bank_pin_verify(bank_caller, accounts, text, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
