CREATE TABLE "rule_external_values" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"variable_id" bigint NOT NULL,
	"registrant_id" bigint NOT NULL,
	"value" jsonb,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rule_variables" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"subject" text NOT NULL,
	"kind" text NOT NULL,
	"definition" text,
	"value" jsonb,
	"result_type" text NOT NULL,
	"description" text NOT NULL,
	"ttl_seconds" integer,
	"failure_policy" text,
	"source" jsonb,
	"is_standard" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "rule_external_values" ADD CONSTRAINT "rule_external_values_variable_id_rule_variables_id_fk" FOREIGN KEY ("variable_id") REFERENCES "public"."rule_variables"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "rule_external_values_uq" ON "rule_external_values" USING btree ("variable_id","registrant_id");--> statement-breakpoint
CREATE INDEX "rule_external_values_registrant_idx" ON "rule_external_values" USING btree ("registrant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "rule_variables_code_subject_uq" ON "rule_variables" USING btree ("code","subject");