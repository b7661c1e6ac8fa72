-- "Sign out everywhere" reaches every replica at once. Replicas keep each admin's
-- tokens_valid_after in memory while they LISTEN on alphaswarm_sign_outs; any change to it, to an
-- admin's name, or to the set of admins is announced there by the transaction that makes it
-- (delivered when it commits), whoever writes it: the API, the CLI, a store import, plain SQL.
-- The payload is the username; empty means every admin.
CREATE FUNCTION "admin_users_sign_out_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('alphaswarm_sign_outs', '');
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM pg_notify('alphaswarm_sign_outs', NEW.username);
  ELSE
    PERFORM pg_notify('alphaswarm_sign_outs', OLD.username);
    IF TG_OP = 'UPDATE' AND NEW.username <> OLD.username THEN
      PERFORM pg_notify('alphaswarm_sign_outs', NEW.username);
    END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "admin_users_sign_out_row" AFTER INSERT OR DELETE OR UPDATE OF "tokens_valid_after", "username"
ON "admin_users" FOR EACH ROW EXECUTE FUNCTION "admin_users_sign_out_notify"();
--> statement-breakpoint
CREATE TRIGGER "admin_users_sign_out_truncate" AFTER TRUNCATE ON "admin_users"
FOR EACH STATEMENT EXECUTE FUNCTION "admin_users_sign_out_notify"();
