CREATE TABLE `alert_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`secret` text NOT NULL,
	`host` text NOT NULL,
	`event_types` text NOT NULL,
	`created_at` text NOT NULL
);
