CREATE TABLE `audit_open_runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`opened_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_open_runs_opened` ON `audit_open_runs` (`opened_at`);--> statement-breakpoint
CREATE TABLE `store_probe` (
	`id` integer PRIMARY KEY NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `wizard_sessions` ADD `version` integer DEFAULT 0 NOT NULL;