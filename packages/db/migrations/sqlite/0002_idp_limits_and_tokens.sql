CREATE TABLE `refresh_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`revoked_at` text,
	`revoked_reason` text
);
--> statement-breakpoint
CREATE INDEX `refresh_sessions_expires` ON `refresh_sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `refresh_sessions_user` ON `refresh_sessions` (`username`);--> statement-breakpoint
CREATE TABLE `refresh_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`issued_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	FOREIGN KEY (`session_id`) REFERENCES `refresh_sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `refresh_tokens_session` ON `refresh_tokens` (`session_id`);--> statement-breakpoint
CREATE INDEX `refresh_tokens_expires` ON `refresh_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `sign_in_address_limits` (
	`address` text PRIMARY KEY NOT NULL,
	`attempts` integer NOT NULL,
	`window_start` text NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sign_in_address_limits_expires` ON `sign_in_address_limits` (`expires_at`);--> statement-breakpoint
CREATE TABLE `sign_in_unknown_users` (
	`name_hash` text PRIMARY KEY NOT NULL,
	`failed_attempts` integer NOT NULL,
	`locked_until` text,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sign_in_unknown_users_expires` ON `sign_in_unknown_users` (`expires_at`);--> statement-breakpoint
CREATE TABLE `used_token_ids` (
	`jti` text PRIMARY KEY NOT NULL,
	`used_at` text NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `used_token_ids_expires` ON `used_token_ids` (`expires_at`);