CREATE TABLE `audit_denial_windows` (
	`address` text PRIMARY KEY NOT NULL,
	`window_start` text NOT NULL,
	`written` integer NOT NULL,
	`suppressed` integer NOT NULL,
	`admitted` integer NOT NULL,
	`carried` integer NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_denial_windows_expires` ON `audit_denial_windows` (`expires_at`);