CREATE TABLE "alert_endpoints" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"type" text COLLATE "C" NOT NULL,
	"secret" text COLLATE "C" NOT NULL,
	"host" text COLLATE "C" NOT NULL,
	"event_types" json NOT NULL,
	"created_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_marks" (
	"credential_key" text COLLATE "C" NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL,
	"threshold" integer NOT NULL,
	"at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_outbox" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"endpoint" text COLLATE "C" NOT NULL,
	"type" text COLLATE "C" NOT NULL,
	"subject" text COLLATE "C",
	"body" text COLLATE "C" NOT NULL,
	"created_at" text COLLATE "C" NOT NULL,
	"status" text COLLATE "C" NOT NULL,
	"attempts" integer NOT NULL,
	"next_attempt_at" text COLLATE "C" NOT NULL,
	"lease_until" text COLLATE "C",
	"last_status" integer,
	"last_error" text COLLATE "C",
	"delivered_at" text COLLATE "C"
);
--> statement-breakpoint
CREATE TABLE "health_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "health_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"credential_key" text COLLATE "C" NOT NULL,
	"org_id" text COLLATE "C" NOT NULL,
	"kind" text COLLATE "C" NOT NULL,
	"at" text COLLATE "C" NOT NULL,
	"source" text COLLATE "C" NOT NULL,
	"result" text COLLATE "C" NOT NULL,
	"latency_ms" integer NOT NULL,
	"error_code" text COLLATE "C",
	"error_message" text COLLATE "C",
	"expires_at" text COLLATE "C"
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alert_marks_once" ON "alert_marks" USING btree ("credential_key","expires_at","threshold");--> statement-breakpoint
CREATE INDEX "alert_outbox_due" ON "alert_outbox" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "alert_outbox_created" ON "alert_outbox" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "health_history_link" ON "health_history" USING btree ("org_id","kind","id");--> statement-breakpoint
CREATE INDEX "health_history_at" ON "health_history" USING btree ("at");