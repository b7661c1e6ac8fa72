-- Attempts written before audit_open_runs existed and never given an outcome (a crash, or a commit
-- lost on a full disk): register them with an unknown owner so start-up recovery closes them.
INSERT INTO `audit_open_runs` (`run_id`, `owner`, `opened_at`)
SELECT a.`run_id`, '', MIN(a.`at`) FROM `audit_events` a
WHERE a.`phase` = 'attempt'
  AND NOT EXISTS (SELECT 1 FROM `audit_events` o WHERE o.`run_id` = a.`run_id` AND o.`phase` = 'outcome')
GROUP BY a.`run_id`;
