CREATE TABLE "admin_users" (
	"username" text COLLATE "C" PRIMARY KEY NOT NULL,
	"password_hash" text COLLATE "C" NOT NULL,
	"totp_secret" text COLLATE "C" NOT NULL,
	"scopes" text COLLATE "C" NOT NULL,
	"created_at" text COLLATE "C" NOT NULL,
	"disabled_at" text COLLATE "C",
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"locked_until" text COLLATE "C",
	"last_totp_step" integer DEFAULT 0 NOT NULL,
	"updated_at" text COLLATE "C" DEFAULT to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" text COLLATE "C" NOT NULL,
	"run_id" text COLLATE "C" NOT NULL,
	"at" text COLLATE "C" NOT NULL,
	"actor" text COLLATE "C" NOT NULL,
	"client_ip" text COLLATE "C",
	"action" text COLLATE "C" NOT NULL,
	"phase" text COLLATE "C" NOT NULL,
	"outcome" text COLLATE "C" NOT NULL,
	"org_id" text COLLATE "C",
	"kind" text COLLATE "C",
	"credential_key" text COLLATE "C",
	"detail" json NOT NULL,
	"prev_hash" text COLLATE "C" NOT NULL,
	"hash" text COLLATE "C" NOT NULL,
	CONSTRAINT "audit_events_id_unique" UNIQUE("id"),
	CONSTRAINT "audit_events_prev_hash_unique" UNIQUE("prev_hash")
);
--> statement-breakpoint
CREATE TABLE "audit_open_runs" (
	"run_id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"owner" text COLLATE "C" NOT NULL,
	"opened_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "integrations" (
	"credential_key" text COLLATE "C" PRIMARY KEY NOT NULL,
	"org_id" text COLLATE "C" NOT NULL,
	"kind" text COLLATE "C" NOT NULL,
	"namespace" text COLLATE "C" NOT NULL,
	"status" text COLLATE "C" NOT NULL,
	"connected_at" text COLLATE "C" NOT NULL,
	"last_health_at" text COLLATE "C",
	"last_health_status" text COLLATE "C",
	"error" json,
	"metadata" json NOT NULL,
	"secret" text COLLATE "C",
	"expires_at" text COLLATE "C",
	"updated_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refresh_sessions" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"username" text COLLATE "C" NOT NULL,
	"created_at" text COLLATE "C" NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL,
	"revoked_at" text COLLATE "C",
	"revoked_reason" text COLLATE "C"
);
--> statement-breakpoint
CREATE TABLE "refresh_tokens" (
	"jti" text COLLATE "C" PRIMARY KEY NOT NULL,
	"session_id" text COLLATE "C" NOT NULL,
	"issued_at" text COLLATE "C" NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL,
	"used_at" text COLLATE "C"
);
--> statement-breakpoint
CREATE TABLE "sign_in_address_limits" (
	"address" text COLLATE "C" PRIMARY KEY NOT NULL,
	"attempts" integer NOT NULL,
	"window_start" text COLLATE "C" NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sign_in_unknown_users" (
	"name_hash" text COLLATE "C" PRIMARY KEY NOT NULL,
	"failed_attempts" integer NOT NULL,
	"locked_until" text COLLATE "C",
	"expires_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text COLLATE "C" PRIMARY KEY NOT NULL,
	"issuer" text COLLATE "C" NOT NULL,
	"alg" text COLLATE "C" NOT NULL,
	"private_key" text COLLATE "C" NOT NULL,
	"public_jwk" json NOT NULL,
	"created_at" text COLLATE "C" NOT NULL,
	"retired_at" text COLLATE "C",
	"publish_until" text COLLATE "C"
);
--> statement-breakpoint
CREATE TABLE "store_probe" (
	"id" integer PRIMARY KEY NOT NULL,
	"at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "used_token_ids" (
	"jti" text COLLATE "C" PRIMARY KEY NOT NULL,
	"used_at" text COLLATE "C" NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "wizard_sessions" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"org_id" text COLLATE "C" NOT NULL,
	"kind" text COLLATE "C" NOT NULL,
	"created_by" text COLLATE "C" NOT NULL,
	"created_at" text COLLATE "C" NOT NULL,
	"updated_at" text COLLATE "C" NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL,
	"state" json NOT NULL,
	"version" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_session_id_refresh_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."refresh_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_run" ON "audit_events" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "audit_org_at" ON "audit_events" USING btree ("org_id","at");--> statement-breakpoint
CREATE INDEX "audit_at" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_open_runs_opened" ON "audit_open_runs" USING btree ("opened_at");--> statement-breakpoint
CREATE UNIQUE INDEX "integrations_org_kind" ON "integrations" USING btree ("org_id","kind");--> statement-breakpoint
CREATE INDEX "integrations_expires" ON "integrations" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "refresh_sessions_expires" ON "refresh_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "refresh_sessions_user" ON "refresh_sessions" USING btree ("username");--> statement-breakpoint
CREATE INDEX "refresh_tokens_session" ON "refresh_tokens" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_expires" ON "refresh_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "sign_in_address_limits_expires" ON "sign_in_address_limits" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "sign_in_unknown_users_expires" ON "sign_in_unknown_users" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "signing_keys_issuer" ON "signing_keys" USING btree ("issuer","created_at");--> statement-breakpoint
CREATE INDEX "used_token_ids_expires" ON "used_token_ids" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "wizard_org_kind" ON "wizard_sessions" USING btree ("org_id","kind");--> statement-breakpoint
CREATE INDEX "wizard_expires" ON "wizard_sessions" USING btree ("expires_at");