-- Append-only, except for retention: a DELETE goes through only for rows an archive cut covers
-- (audit_archives, written in the same transaction as the cut's own audit row). UPDATE and
-- TRUNCATE stay refused.
CREATE OR REPLACE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD."seq" <= (SELECT coalesce(max("through_seq"), 0) FROM "audit_archives") THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
