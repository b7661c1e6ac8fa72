CREATE TABLE `audit_archives` (
	`through_seq` integer PRIMARY KEY NOT NULL,
	`through_link` text NOT NULL,
	`file` text NOT NULL,
	`archived_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_checkpoints` (
	`last_seq` integer PRIMARY KEY NOT NULL,
	`last_link` text NOT NULL,
	`time` text NOT NULL,
	`kid` text NOT NULL,
	`jws` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_outbox` (
	`sink` text PRIMARY KEY NOT NULL,
	`delivered_seq` integer DEFAULT 0 NOT NULL,
	`lease_owner` text,
	`lease_until` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text,
	`last_error` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `audit_events` ADD `key_id` text;