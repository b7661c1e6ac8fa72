CREATE TABLE "admin_passkeys" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"username" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"public_key" text COLLATE "C" NOT NULL,
	"counter" integer DEFAULT 0 NOT NULL,
	"transports" json NOT NULL,
	"device_type" text COLLATE "C" NOT NULL,
	"backed_up" integer NOT NULL,
	"created_at" text COLLATE "C" NOT NULL,
	"last_used_at" text COLLATE "C"
);
--> statement-breakpoint
CREATE TABLE "admin_recovery_codes" (
	"code_hash" text COLLATE "C" PRIMARY KEY NOT NULL,
	"username" text COLLATE "C" NOT NULL,
	"created_at" text COLLATE "C" NOT NULL,
	"used_at" text COLLATE "C"
);
--> statement-breakpoint
CREATE TABLE "webauthn_challenges" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"challenge" text COLLATE "C" NOT NULL,
	"purpose" text COLLATE "C" NOT NULL,
	"username" text COLLATE "C",
	"created_at" text COLLATE "C" NOT NULL,
	"expires_at" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
ALTER TABLE "admin_passkeys" ADD CONSTRAINT "admin_passkeys_username_admin_users_username_fk" FOREIGN KEY ("username") REFERENCES "public"."admin_users"("username") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "admin_recovery_codes" ADD CONSTRAINT "admin_recovery_codes_username_admin_users_username_fk" FOREIGN KEY ("username") REFERENCES "public"."admin_users"("username") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "admin_passkeys_user" ON "admin_passkeys" USING btree ("username");--> statement-breakpoint
CREATE INDEX "admin_recovery_codes_user" ON "admin_recovery_codes" USING btree ("username");--> statement-breakpoint
CREATE INDEX "webauthn_challenges_expires" ON "webauthn_challenges" USING btree ("expires_at");