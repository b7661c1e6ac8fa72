CREATE TABLE `console_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`subject` text,
	`created_at` text NOT NULL,
	`last_seen_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`address` text,
	`user_agent` text,
	`version` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`refresh_owner` text,
	`refresh_until` text
);
--> statement-breakpoint
CREATE INDEX `console_sessions_subject` ON `console_sessions` (`subject`);--> statement-breakpoint
CREATE INDEX `console_sessions_expires` ON `console_sessions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `admin_users` ADD `tokens_valid_after` text;