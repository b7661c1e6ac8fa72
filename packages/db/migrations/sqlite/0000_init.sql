CREATE TABLE `admin_users` (
	`username` text PRIMARY KEY NOT NULL,
	`password_hash` text NOT NULL,
	`totp_secret` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` text NOT NULL,
	`disabled_at` text,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`locked_until` text,
	`last_totp_step` integer DEFAULT 0 NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`run_id` text NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`client_ip` text,
	`action` text NOT NULL,
	`phase` text NOT NULL,
	`outcome` text NOT NULL,
	`org_id` text,
	`kind` text,
	`credential_key` text,
	`detail` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_events_id_unique` ON `audit_events` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `audit_events_prev_hash_unique` ON `audit_events` (`prev_hash`);--> statement-breakpoint
CREATE INDEX `audit_run` ON `audit_events` (`run_id`);--> statement-breakpoint
CREATE INDEX `audit_org_at` ON `audit_events` (`org_id`,`at`);--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit_events` (`at`);--> statement-breakpoint
CREATE TABLE `integrations` (
	`credential_key` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`kind` text NOT NULL,
	`namespace` text NOT NULL,
	`status` text NOT NULL,
	`connected_at` text NOT NULL,
	`last_health_at` text,
	`last_health_status` text,
	`error` text,
	`metadata` text NOT NULL,
	`secret` text,
	`expires_at` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `integrations_org_kind` ON `integrations` (`org_id`,`kind`);--> statement-breakpoint
CREATE INDEX `integrations_expires` ON `integrations` (`expires_at`);--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`issuer` text NOT NULL,
	`alg` text NOT NULL,
	`private_key` text NOT NULL,
	`public_jwk` text NOT NULL,
	`created_at` text NOT NULL,
	`retired_at` text,
	`publish_until` text
);
--> statement-breakpoint
CREATE INDEX `signing_keys_issuer` ON `signing_keys` (`issuer`,`created_at`);--> statement-breakpoint
CREATE TABLE `wizard_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`kind` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`state` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `wizard_org_kind` ON `wizard_sessions` (`org_id`,`kind`);--> statement-breakpoint
CREATE INDEX `wizard_expires` ON `wizard_sessions` (`expires_at`);