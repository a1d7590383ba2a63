CREATE TABLE "encryption_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"version" integer NOT NULL,
	"wrapped_key" text NOT NULL,
	"kek_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"rewrapped_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "identifiers_live_uq";--> statement-breakpoint
ALTER TABLE "identifiers" ALTER COLUMN "value" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "registrants" ALTER COLUMN "addresses" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "registrants" ALTER COLUMN "addresses" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "registrants" ALTER COLUMN "phones" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "registrants" ALTER COLUMN "phones" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "identifiers" ADD COLUMN "value_encrypted" text;--> statement-breakpoint
ALTER TABLE "identifiers" ADD COLUMN "value_index" text;--> statement-breakpoint
ALTER TABLE "registrants" ADD COLUMN "addresses_encrypted" text;--> statement-breakpoint
ALTER TABLE "registrants" ADD COLUMN "phones_encrypted" text;--> statement-breakpoint
ALTER TABLE "registrants" ADD COLUMN "phone_indexes" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "encryption_keys_purpose_version_uq" ON "encryption_keys" USING btree ("purpose","version");--> statement-breakpoint
CREATE UNIQUE INDEX "identifiers_legacy_live_uq" ON "identifiers" USING btree ("id_type","value") WHERE "identifiers"."is_valid" and "identifiers"."value" is not null;--> statement-breakpoint
CREATE INDEX "identifiers_legacy_plaintext_idx" ON "identifiers" USING btree ("id") WHERE "identifiers"."value" is not null;--> statement-breakpoint
CREATE INDEX "registrants_phone_indexes_idx" ON "registrants" USING gin ("phone_indexes");--> statement-breakpoint
CREATE INDEX "registrants_legacy_plaintext_idx" ON "registrants" USING btree ("id") WHERE "registrants"."phones" is not null or "registrants"."addresses" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "identifiers_live_uq" ON "identifiers" USING btree ("id_type","value_index") WHERE "identifiers"."is_valid";