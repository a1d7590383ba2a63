CREATE TABLE "cycles" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"program_id" bigint NOT NULL,
	"sequence" integer NOT NULL,
	"name" text NOT NULL,
	"start_date" date NOT NULL,
	"end_date" date NOT NULL,
	"recurrence" text DEFAULT 'none' NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"prepared_by" text,
	"prepared_at" timestamp with time zone,
	"approved_by" text,
	"approved_at" timestamp with time zone,
	"cash_total" numeric(18, 2) DEFAULT '0' NOT NULL,
	"entitlement_count" integer DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cycles_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "cycles_dates_ck" CHECK ("cycles"."end_date" >= "cycles"."start_date")
);
--> statement-breakpoint
CREATE TABLE "duplicate_suspects" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"program_id" bigint NOT NULL,
	"membership_id" bigint NOT NULL,
	"other_registrant_id" bigint,
	"reason" text NOT NULL,
	"detail" text,
	"state" text DEFAULT 'open' NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "duplicate_suspects_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "entitlements" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"cycle_id" bigint NOT NULL,
	"membership_id" bigint NOT NULL,
	"registrant_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"state" text DEFAULT 'prepared' NOT NULL,
	"amount" numeric(18, 2),
	"currency" text,
	"product_id" bigint,
	"quantity" numeric(18, 3),
	"service_point_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "entitlements_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "payment_batches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"cycle_id" bigint NOT NULL,
	"provider" text NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"payment_count" integer DEFAULT 0 NOT NULL,
	"total" numeric(18, 2) DEFAULT '0' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_batches_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "payment_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"payment_id" bigint NOT NULL,
	"from_state" text,
	"to_state" text NOT NULL,
	"attempt" integer NOT NULL,
	"reason" text,
	"actor_type" text NOT NULL,
	"actor_id" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"batch_id" bigint NOT NULL,
	"entitlement_id" bigint NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"idempotency_key" text NOT NULL,
	"provider_reference" text,
	"failure_reason" text,
	"sent_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "payments_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "products" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"unit" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "products_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "products_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "program_fund_movements" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"program_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"cycle_id" bigint,
	"reference" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "program_fund_movements_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "program_membership_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"membership_id" bigint NOT NULL,
	"from_state" text,
	"to_state" text NOT NULL,
	"reason" text NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "program_memberships" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"program_id" bigint NOT NULL,
	"registrant_id" bigint NOT NULL,
	"state" text NOT NULL,
	"state_reason" text,
	"ineligible_since" timestamp with time zone,
	"enrolled_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "program_memberships_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"target_type" text NOT NULL,
	"eligibility_rule" text NOT NULL,
	"cash_formula" text,
	"cash_condition" text,
	"in_kind" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"currency" text NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"dedup" jsonb NOT NULL,
	"managers" text[] DEFAULT '{}'::text[] NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "programs_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "programs_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "service_point_stock" (
	"service_point_id" bigint NOT NULL,
	"product_id" bigint NOT NULL,
	"on_hand" numeric(18, 3) DEFAULT '0' NOT NULL,
	"committed" numeric(18, 3) DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_point_stock_no_overcommit_ck" CHECK ("service_point_stock"."committed" <= "service_point_stock"."on_hand" and "service_point_stock"."committed" >= 0)
);
--> statement-breakpoint
CREATE TABLE "service_points" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"area_id" bigint,
	"is_active" boolean DEFAULT true NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_points_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "service_points_code_unique" UNIQUE("code")
);
--> statement-breakpoint
ALTER TABLE "cycles" ADD CONSTRAINT "cycles_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "duplicate_suspects" ADD CONSTRAINT "duplicate_suspects_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "duplicate_suspects" ADD CONSTRAINT "duplicate_suspects_membership_id_program_memberships_id_fk" FOREIGN KEY ("membership_id") REFERENCES "public"."program_memberships"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "duplicate_suspects" ADD CONSTRAINT "duplicate_suspects_other_registrant_id_registrants_id_fk" FOREIGN KEY ("other_registrant_id") REFERENCES "public"."registrants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_cycle_id_cycles_id_fk" FOREIGN KEY ("cycle_id") REFERENCES "public"."cycles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_membership_id_program_memberships_id_fk" FOREIGN KEY ("membership_id") REFERENCES "public"."program_memberships"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_registrant_id_registrants_id_fk" FOREIGN KEY ("registrant_id") REFERENCES "public"."registrants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_service_point_id_service_points_id_fk" FOREIGN KEY ("service_point_id") REFERENCES "public"."service_points"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_cycle_id_cycles_id_fk" FOREIGN KEY ("cycle_id") REFERENCES "public"."cycles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_events" ADD CONSTRAINT "payment_events_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_batch_id_payment_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payment_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_entitlement_id_entitlements_id_fk" FOREIGN KEY ("entitlement_id") REFERENCES "public"."entitlements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_fund_movements" ADD CONSTRAINT "program_fund_movements_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_membership_events" ADD CONSTRAINT "program_membership_events_membership_id_program_memberships_id_fk" FOREIGN KEY ("membership_id") REFERENCES "public"."program_memberships"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_memberships" ADD CONSTRAINT "program_memberships_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_memberships" ADD CONSTRAINT "program_memberships_registrant_id_registrants_id_fk" FOREIGN KEY ("registrant_id") REFERENCES "public"."registrants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_point_stock" ADD CONSTRAINT "service_point_stock_service_point_id_service_points_id_fk" FOREIGN KEY ("service_point_id") REFERENCES "public"."service_points"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_point_stock" ADD CONSTRAINT "service_point_stock_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_points" ADD CONSTRAINT "service_points_area_id_areas_id_fk" FOREIGN KEY ("area_id") REFERENCES "public"."areas"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "cycles_program_sequence_uq" ON "cycles" USING btree ("program_id","sequence");--> statement-breakpoint
CREATE UNIQUE INDEX "duplicate_suspects_uq" ON "duplicate_suspects" USING btree ("membership_id","reason",coalesce("other_registrant_id", 0));--> statement-breakpoint
CREATE INDEX "duplicate_suspects_program_state_idx" ON "duplicate_suspects" USING btree ("program_id","state","id");--> statement-breakpoint
CREATE UNIQUE INDEX "entitlements_one_per_item_uq" ON "entitlements" USING btree ("cycle_id","membership_id","kind",coalesce("product_id", 0));--> statement-breakpoint
CREATE INDEX "entitlements_cycle_idx" ON "entitlements" USING btree ("cycle_id","id");--> statement-breakpoint
CREATE INDEX "payment_batches_cycle_idx" ON "payment_batches" USING btree ("cycle_id");--> statement-breakpoint
CREATE INDEX "payment_events_payment_idx" ON "payment_events" USING btree ("payment_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_entitlement_uq" ON "payments" USING btree ("entitlement_id");--> statement-breakpoint
CREATE INDEX "payments_batch_state_idx" ON "payments" USING btree ("batch_id","state","id");--> statement-breakpoint
CREATE INDEX "program_fund_movements_program_idx" ON "program_fund_movements" USING btree ("program_id");--> statement-breakpoint
CREATE INDEX "program_membership_events_membership_idx" ON "program_membership_events" USING btree ("membership_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "program_memberships_program_registrant_uq" ON "program_memberships" USING btree ("program_id","registrant_id");--> statement-breakpoint
CREATE INDEX "program_memberships_program_state_idx" ON "program_memberships" USING btree ("program_id","state","id");--> statement-breakpoint
CREATE INDEX "program_memberships_registrant_idx" ON "program_memberships" USING btree ("registrant_id");--> statement-breakpoint
CREATE INDEX "programs_state_idx" ON "programs" USING btree ("state","id");--> statement-breakpoint
CREATE UNIQUE INDEX "service_point_stock_uq" ON "service_point_stock" USING btree ("service_point_id","product_id");