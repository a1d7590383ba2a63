CREATE TABLE "signing_keys" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kid" text NOT NULL,
	"algorithm" text NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"private_jwk" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "signing_keys_kid_unique" UNIQUE("kid")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" text NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"request_id" text
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"dedupe_key" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 5 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"lease_until" timestamp with time zone,
	"progress_done" integer DEFAULT 0 NOT NULL,
	"progress_total" integer,
	"checkpoint" jsonb,
	"result" jsonb,
	"last_error" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "jobs_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"client_id" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer,
	"response_headers" jsonb,
	"response_body" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_client_id_key_pk" PRIMARY KEY("client_id","key")
);
--> statement-breakpoint
CREATE TABLE "areas" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"parent_id" bigint,
	"path" text NOT NULL,
	"depth" integer NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deactivated_at" timestamp with time zone,
	CONSTRAINT "areas_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "vocabularies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"namespace_uri" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"is_system" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vocabularies_code_unique" UNIQUE("code"),
	CONSTRAINT "vocabularies_namespace_uri_unique" UNIQUE("namespace_uri")
);
--> statement-breakpoint
CREATE TABLE "vocabulary_codes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"vocabulary_id" bigint NOT NULL,
	"code" text NOT NULL,
	"label" text NOT NULL,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"is_local" boolean DEFAULT false NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "custom_field_definitions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"applies_to" text NOT NULL,
	"name" text NOT NULL,
	"label" text NOT NULL,
	"value_schema" jsonb NOT NULL,
	"is_required" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identifiers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"registrant_id" bigint NOT NULL,
	"id_type" text NOT NULL,
	"value" text NOT NULL,
	"is_valid" boolean DEFAULT true NOT NULL,
	"invalid_reason" text,
	"issued_on" date,
	"expires_on" date,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"invalidated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "memberships" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"group_id" bigint NOT NULL,
	"individual_id" bigint NOT NULL,
	"role" text NOT NULL,
	"start_date" date NOT NULL,
	"end_date" date,
	"end_reason" text,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "registrants" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"kind" text NOT NULL,
	"group_type" text,
	"given_name" text,
	"family_name" text,
	"additional_name" text,
	"display_name" text NOT NULL,
	"name_search" text NOT NULL,
	"birth_date" date,
	"gender" text,
	"civil_status" text,
	"area_id" bigint,
	"addresses" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"phones" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"email" text,
	"has_disability" boolean,
	"disability_types" text[],
	"monthly_income" numeric(14, 2),
	"income_currency" text,
	"custom" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"deactivation_reason" text,
	"deactivated_at" timestamp with time zone,
	"source_system" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "registrants_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "relationships" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"source_id" bigint NOT NULL,
	"target_id" bigint NOT NULL,
	"relationship" text NOT NULL,
	"start_date" date,
	"end_date" date,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "relationships_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "api_clients" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"name" text NOT NULL,
	"secret_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_clients_client_id_unique" UNIQUE("client_id")
);
--> statement-breakpoint
ALTER TABLE "vocabulary_codes" ADD CONSTRAINT "vocabulary_codes_vocabulary_id_vocabularies_id_fk" FOREIGN KEY ("vocabulary_id") REFERENCES "public"."vocabularies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identifiers" ADD CONSTRAINT "identifiers_registrant_id_registrants_id_fk" FOREIGN KEY ("registrant_id") REFERENCES "public"."registrants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_group_id_registrants_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."registrants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_individual_id_registrants_id_fk" FOREIGN KEY ("individual_id") REFERENCES "public"."registrants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registrants" ADD CONSTRAINT "registrants_area_id_areas_id_fk" FOREIGN KEY ("area_id") REFERENCES "public"."areas"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relationships" ADD CONSTRAINT "relationships_source_id_registrants_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."registrants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relationships" ADD CONSTRAINT "relationships_target_id_registrants_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."registrants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_entity_idx" ON "audit_log" USING btree ("entity_type","entity_id","id");--> statement-breakpoint
CREATE INDEX "jobs_claim_idx" ON "jobs" USING btree ("run_at") WHERE "jobs"."state" in ('queued', 'running');--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_dedupe_uq" ON "jobs" USING btree ("type","dedupe_key");--> statement-breakpoint
CREATE INDEX "areas_path_idx" ON "areas" USING btree ("path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "areas_parent_idx" ON "areas" USING btree ("parent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "vocabulary_codes_code_uq" ON "vocabulary_codes" USING btree ("vocabulary_id","code");--> statement-breakpoint
CREATE UNIQUE INDEX "custom_field_definitions_uq" ON "custom_field_definitions" USING btree ("applies_to","name");--> statement-breakpoint
CREATE UNIQUE INDEX "identifiers_live_uq" ON "identifiers" USING btree ("id_type","value") WHERE "identifiers"."is_valid";--> statement-breakpoint
CREATE INDEX "identifiers_registrant_idx" ON "identifiers" USING btree ("registrant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "memberships_one_active_per_group_uq" ON "memberships" USING btree ("group_id","individual_id") WHERE "memberships"."is_active";--> statement-breakpoint
CREATE UNIQUE INDEX "memberships_one_active_head_uq" ON "memberships" USING btree ("group_id") WHERE "memberships"."is_active" and "memberships"."role" = 'head';--> statement-breakpoint
CREATE INDEX "memberships_individual_idx" ON "memberships" USING btree ("individual_id");--> statement-breakpoint
CREATE INDEX "registrants_kind_name_idx" ON "registrants" USING btree ("kind","display_name","id");--> statement-breakpoint
CREATE INDEX "registrants_name_trgm_idx" ON "registrants" USING gin ("name_search" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "registrants_area_idx" ON "registrants" USING btree ("area_id");--> statement-breakpoint
CREATE INDEX "registrants_birth_date_idx" ON "registrants" USING btree ("birth_date");--> statement-breakpoint
CREATE INDEX "registrants_updated_idx" ON "registrants" USING btree ("updated_at","id");--> statement-breakpoint
CREATE INDEX "relationships_source_idx" ON "relationships" USING btree ("source_id");--> statement-breakpoint
CREATE INDEX "relationships_target_idx" ON "relationships" USING btree ("target_id");