-- At most one audit event per request id, enforced by the database for every writer.
--
-- API.md: every request leaves exactly one audit event. An operation writes its event in its own
-- transaction; the audit middleware writes one for a request refused or failed outside an
-- operation (bank_audit_record). When the handler never saw the answer of a committed operation
-- (the Data API's answer lost on the way back, or later than the function's own timeout, which
-- fails the handler a few ms before the deadline while its statement may still be running), the
-- middleware wrote a second event ("failed") for a request whose operation had succeeded. A
-- unique index on request_id makes the second writer lose, whichever it is and whatever the
-- timing:
--   - bank_audit_record inserts ON CONFLICT DO NOTHING: when the request already has its event
--     it writes nothing; when that event's transaction is still running (a statement still
--     executing after its caller saw an error) it waits for it, and writes only if it rolls back;
--   - an operation whose request already has the middleware's event fails on the index and rolls
--     back whole: nothing moved, and the event that stands ("failed") is the truth.
-- An advisory lock on the request id plus NOT EXISTS would need every writer to take it and to
-- read at READ COMMITTED, and would still need an index for the lookup; the unique index gives
-- the same order with no lock and holds for any writer, present or future.
--
-- Rows written before this migration may already hold two events for one request (that is the
-- bug). audit_logs is append-only and sealed (a row cannot be changed or removed), so those
-- requests stay as they are and the index starts after them: it covers every row with a seq
-- above the last row of any such request (all rows, on a database that never had one). Request
-- ids are new for every request, so no new event can belong to an old request except one in
-- flight across the upgrade. No row is rewritten: seals are by row identity and transaction id,
-- and an index changes neither.
DO $$
DECLARE
  v_last_duplicate bigint;
BEGIN
  SELECT max(a.seq) INTO v_last_duplicate
    FROM audit_logs a
   WHERE a.request_id IN (SELECT d.request_id FROM audit_logs d WHERE d.request_id IS NOT NULL
                           GROUP BY d.request_id HAVING count(*) > 1);
  IF v_last_duplicate IS NULL THEN
    CREATE UNIQUE INDEX audit_logs_request_id_key ON audit_logs (request_id) WHERE request_id IS NOT NULL;
  ELSE
    EXECUTE format('CREATE UNIQUE INDEX audit_logs_request_id_key ON audit_logs (request_id) '
                   'WHERE request_id IS NOT NULL AND seq > %s', v_last_duplicate);
  END IF;
END
$$;
