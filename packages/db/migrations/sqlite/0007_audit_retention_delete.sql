-- Append-only, except for retention: a DELETE goes through only for rows an archive cut covers
-- (audit_archives, written in the same transaction as the cut's own audit row).
DROP TRIGGER `audit_events_no_delete`;
--> statement-breakpoint
CREATE TRIGGER `audit_events_no_delete` BEFORE DELETE ON `audit_events`
WHEN OLD.`seq` > (SELECT coalesce(max(`through_seq`), 0) FROM `audit_archives`)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
