CREATE TABLE "dci_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"partner_id" bigint NOT NULL,
	"transaction_row_id" bigint,
	"subscription_id" bigint,
	"action" text NOT NULL,
	"message_id" text NOT NULL,
	"target_uri" text NOT NULL,
	"content_encrypted" text NOT NULL,
	"ordering_key" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone,
	"last_http_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "dci_deliveries_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "dci_deliveries_message_id_unique" UNIQUE("message_id")
);
--> statement-breakpoint
CREATE TABLE "dci_delivery_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"http_status" integer,
	"outcome" text NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "dci_registry_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"txid" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL,
	"event" text NOT NULL,
	"kind" text NOT NULL,
	"registrant_uuid" uuid NOT NULL,
	"group_uuid" uuid,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dci_subscriptions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"partner_id" bigint NOT NULL,
	"transaction_row_id" bigint NOT NULL,
	"transaction_id" text NOT NULL,
	"reference_id" text NOT NULL,
	"reg_type" text,
	"reg_event_type" text NOT NULL,
	"notify_record_type" text NOT NULL,
	"filter_type" text NOT NULL,
	"filter_encrypted" text NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"frequency" text,
	"callback_uri" text NOT NULL,
	"locale" text,
	"status" text DEFAULT 'subscribe' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"unsubscribed_at" timestamp with time zone,
	CONSTRAINT "dci_subscriptions_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "dci_transactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"partner_id" bigint NOT NULL,
	"sender_id" text NOT NULL,
	"action" text NOT NULL,
	"message_id" text NOT NULL,
	"transaction_id" text NOT NULL,
	"reference_ids" text[] DEFAULT '{}' NOT NULL,
	"status" text DEFAULT 'pdng' NOT NULL,
	"callback_uri" text,
	"actor" jsonb NOT NULL,
	"request_encrypted" text NOT NULL,
	"response_encrypted" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "dci_transactions_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
ALTER TABLE "dci_deliveries" ADD CONSTRAINT "dci_deliveries_partner_id_dci_partners_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."dci_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_deliveries" ADD CONSTRAINT "dci_deliveries_transaction_row_id_dci_transactions_id_fk" FOREIGN KEY ("transaction_row_id") REFERENCES "public"."dci_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_deliveries" ADD CONSTRAINT "dci_deliveries_subscription_id_dci_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."dci_subscriptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_delivery_attempts" ADD CONSTRAINT "dci_delivery_attempts_delivery_id_dci_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."dci_deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_subscriptions" ADD CONSTRAINT "dci_subscriptions_partner_id_dci_partners_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."dci_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_subscriptions" ADD CONSTRAINT "dci_subscriptions_transaction_row_id_dci_transactions_id_fk" FOREIGN KEY ("transaction_row_id") REFERENCES "public"."dci_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_transactions" ADD CONSTRAINT "dci_transactions_partner_id_dci_partners_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."dci_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dci_deliveries_due_idx" ON "dci_deliveries" USING btree ("next_attempt_at","id") WHERE "dci_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "dci_deliveries_ordering_idx" ON "dci_deliveries" USING btree ("ordering_key","id") WHERE "dci_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "dci_deliveries_transaction_idx" ON "dci_deliveries" USING btree ("transaction_row_id");--> statement-breakpoint
CREATE INDEX "dci_deliveries_subscription_idx" ON "dci_deliveries" USING btree ("subscription_id","id");--> statement-breakpoint
CREATE INDEX "dci_delivery_attempts_delivery_idx" ON "dci_delivery_attempts" USING btree ("delivery_id","attempt");--> statement-breakpoint
CREATE INDEX "dci_registry_events_order_idx" ON "dci_registry_events" USING btree ("txid","id");--> statement-breakpoint
CREATE INDEX "dci_subscriptions_active_idx" ON "dci_subscriptions" USING btree ("reg_event_type","end_time") WHERE "dci_subscriptions"."status" = 'subscribe';--> statement-breakpoint
CREATE INDEX "dci_subscriptions_partner_idx" ON "dci_subscriptions" USING btree ("partner_id","id");--> statement-breakpoint
CREATE INDEX "dci_transactions_partner_txn_idx" ON "dci_transactions" USING btree ("partner_id","transaction_id");--> statement-breakpoint
CREATE INDEX "dci_transactions_created_idx" ON "dci_transactions" USING btree ("created_at","id");--> statement-breakpoint
-- Registry events for DCI subscriptions, written in the registry's own transaction (an outbox fed
-- by triggers, so every write path is covered: API, $batch, imports, seeding). Statement-level
-- triggers with transition tables: one insert per statement, and nothing at all while no
-- subscription is active.
CREATE OR REPLACE FUNCTION dci_subscriptions_active() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM dci_subscriptions WHERE status = 'subscribe' AND end_time > now())
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION dci_registrants_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF dci_subscriptions_active() THEN
    INSERT INTO dci_registry_events (event, kind, registrant_uuid)
      SELECT 'REGISTER', n.kind, n.uuid FROM dci_new_rows n ORDER BY n.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER dci_registrants_inserted AFTER INSERT ON registrants
  REFERENCING NEW TABLE AS dci_new_rows FOR EACH STATEMENT EXECUTE FUNCTION dci_registrants_inserted();
--> statement-breakpoint
-- An update is a new version (re-encryption and other housekeeping do not change the version).
CREATE OR REPLACE FUNCTION dci_registrants_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF dci_subscriptions_active() THEN
    INSERT INTO dci_registry_events (event, kind, registrant_uuid)
      SELECT 'UPDATE', n.kind, n.uuid FROM dci_new_rows n JOIN dci_old_rows o ON o.id = n.id
      WHERE n.version IS DISTINCT FROM o.version ORDER BY n.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER dci_registrants_updated AFTER UPDATE ON registrants
  REFERENCING OLD TABLE AS dci_old_rows NEW TABLE AS dci_new_rows FOR EACH STATEMENT EXECUTE FUNCTION dci_registrants_updated();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION dci_memberships_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF dci_subscriptions_active() THEN
    INSERT INTO dci_registry_events (event, kind, registrant_uuid, group_uuid)
      SELECT 'NewHouseHoldMember', 'individual', i.uuid, g.uuid
      FROM dci_new_rows m JOIN registrants i ON i.id = m.individual_id JOIN registrants g ON g.id = m.group_id
      WHERE m.is_active ORDER BY m.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER dci_memberships_inserted AFTER INSERT ON memberships
  REFERENCING NEW TABLE AS dci_new_rows FOR EACH STATEMENT EXECUTE FUNCTION dci_memberships_inserted();
--> statement-breakpoint
-- A membership made active again is a member joining the household again.
CREATE OR REPLACE FUNCTION dci_memberships_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF dci_subscriptions_active() THEN
    INSERT INTO dci_registry_events (event, kind, registrant_uuid, group_uuid)
      SELECT 'NewHouseHoldMember', 'individual', i.uuid, g.uuid
      FROM dci_new_rows m JOIN dci_old_rows o ON o.id = m.id
        JOIN registrants i ON i.id = m.individual_id JOIN registrants g ON g.id = m.group_id
      WHERE m.is_active AND NOT o.is_active ORDER BY m.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER dci_memberships_updated AFTER UPDATE ON memberships
  REFERENCING OLD TABLE AS dci_old_rows NEW TABLE AS dci_new_rows FOR EACH STATEMENT EXECUTE FUNCTION dci_memberships_updated();
