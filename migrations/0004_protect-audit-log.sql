-- The audit log is append-only. Deleting an entry is refused; an entry may be updated only once,
-- by the sealer, to add its chain fields, and nothing else of it may change. (A database superuser
-- can still disable this trigger: the hash chain, checked by `commonweal audit verify`, detects that.)
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_log is append-only: entries cannot be deleted';
  END IF;
  IF OLD.entry_hash IS NOT NULL
     OR (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.action, NEW.entity_type, NEW.entity_id, NEW.before, NEW.after, NEW.request_id)
        IS DISTINCT FROM
        (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.action, OLD.entity_type, OLD.entity_id, OLD.before, OLD.after, OLD.request_id) THEN
    RAISE EXCEPTION 'audit_log is append-only: a sealed entry cannot change, and an entry''s content never can';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
