CREATE TABLE "audit_archives" (
	"through_seq" integer PRIMARY KEY NOT NULL,
	"through_link" text COLLATE "C" NOT NULL,
	"file" text COLLATE "C" NOT NULL,
	"archived_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_checkpoints" (
	"last_seq" integer PRIMARY KEY NOT NULL,
	"last_link" text COLLATE "C" NOT NULL,
	"time" text COLLATE "C" NOT NULL,
	"kid" text COLLATE "C" NOT NULL,
	"jws" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_outbox" (
	"sink" text COLLATE "C" PRIMARY KEY NOT NULL,
	"delivered_seq" integer DEFAULT 0 NOT NULL,
	"lease_owner" text COLLATE "C",
	"lease_until" text COLLATE "C",
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" text COLLATE "C",
	"last_error" text COLLATE "C",
	"updated_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "key_id" text COLLATE "C";