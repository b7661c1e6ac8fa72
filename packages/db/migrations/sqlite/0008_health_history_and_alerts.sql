CREATE TABLE `alert_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`secret` text NOT NULL,
	`host` text NOT NULL,
	`event_types` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_marks` (
	`credential_key` text NOT NULL,
	`expires_at` text NOT NULL,
	`threshold` integer NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_marks_once` ON `alert_marks` (`credential_key`,`expires_at`,`threshold`);--> statement-breakpoint
CREATE TABLE `alert_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`endpoint` text NOT NULL,
	`type` text NOT NULL,
	`subject` text,
	`body` text NOT NULL,
	`created_at` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` text NOT NULL,
	`lease_until` text,
	`last_status` integer,
	`last_error` text,
	`delivered_at` text
);
--> statement-breakpoint
CREATE INDEX `alert_outbox_due` ON `alert_outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `alert_outbox_created` ON `alert_outbox` (`created_at`);--> statement-breakpoint
CREATE TABLE `health_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`credential_key` text NOT NULL,
	`org_id` text NOT NULL,
	`kind` text NOT NULL,
	`at` text NOT NULL,
	`source` text NOT NULL,
	`result` text NOT NULL,
	`latency_ms` integer NOT NULL,
	`error_code` text,
	`error_message` text,
	`expires_at` text
);
--> statement-breakpoint
CREATE INDEX `health_history_link` ON `health_history` (`org_id`,`kind`,`id`);--> statement-breakpoint
CREATE INDEX `health_history_at` ON `health_history` (`at`);