CREATE TABLE `onboarding_shares` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`org_id` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`revoked_at` text,
	FOREIGN KEY (`session_id`) REFERENCES `wizard_sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `onboarding_shares_token_hash_unique` ON `onboarding_shares` (`token_hash`);--> statement-breakpoint
CREATE INDEX `onboarding_shares_session` ON `onboarding_shares` (`session_id`);--> statement-breakpoint
CREATE INDEX `onboarding_shares_expires` ON `onboarding_shares` (`expires_at`);