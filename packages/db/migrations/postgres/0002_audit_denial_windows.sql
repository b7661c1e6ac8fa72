CREATE TABLE "audit_denial_windows" (
	"address" text COLLATE "C" PRIMARY KEY NOT NULL,
	"window_start" text COLLATE "C" NOT NULL,
	"written" integer NOT NULL,
	"suppressed" integer NOT NULL,
	"admitted" integer NOT NULL,
	"carried" integer NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_denial_windows_expires" ON "audit_denial_windows" USING btree ("expires_at");