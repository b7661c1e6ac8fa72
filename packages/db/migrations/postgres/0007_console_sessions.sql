CREATE TABLE "console_sessions" (
	"id_hash" text COLLATE "C" PRIMARY KEY NOT NULL,
	"subject" text COLLATE "C",
	"created_at" text COLLATE "C" NOT NULL,
	"last_seen_at" text COLLATE "C" NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL,
	"address" text COLLATE "C",
	"user_agent" text COLLATE "C",
	"version" integer DEFAULT 0 NOT NULL,
	"data" text COLLATE "C" NOT NULL,
	"refresh_owner" text COLLATE "C",
	"refresh_until" text COLLATE "C"
);
--> statement-breakpoint
ALTER TABLE "admin_users" ADD COLUMN "tokens_valid_after" text COLLATE "C";--> statement-breakpoint
CREATE INDEX "console_sessions_subject" ON "console_sessions" USING btree ("subject");--> statement-breakpoint
CREATE INDEX "console_sessions_expires" ON "console_sessions" USING btree ("expires_at");