CREATE TABLE "dci_encryption_keys" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kid" text NOT NULL,
	"algorithm" text NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"private_jwk_encrypted" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "dci_encryption_keys_kid_unique" UNIQUE("kid")
);
--> statement-breakpoint
CREATE TABLE "dci_message_ids" (
	"sender_id" text NOT NULL,
	"message_id" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "dci_message_ids_sender_id_message_id_pk" PRIMARY KEY("sender_id","message_id")
);
--> statement-breakpoint
CREATE TABLE "dci_partners" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"sender_id" text NOT NULL,
	"name" text NOT NULL,
	"api_client_id" text NOT NULL,
	"signature_policy" text DEFAULT 'required' NOT NULL,
	"signature_strategy" text DEFAULT 'signature-string' NOT NULL,
	"public_keys" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"jwks_url" text,
	"allowed_callback_hosts" text[] DEFAULT '{}' NOT NULL,
	"callback_credentials_encrypted" text,
	"encryption_policy" text DEFAULT 'none' NOT NULL,
	"encryption_key" jsonb,
	"is_active" boolean DEFAULT true NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dci_partners_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "dci_partners_sender_id_unique" UNIQUE("sender_id"),
	CONSTRAINT "dci_partners_api_client_id_unique" UNIQUE("api_client_id")
);
--> statement-breakpoint
ALTER TABLE "dci_partners" ADD CONSTRAINT "dci_partners_api_client_id_api_clients_client_id_fk" FOREIGN KEY ("api_client_id") REFERENCES "public"."api_clients"("client_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dci_message_ids_expires_idx" ON "dci_message_ids" USING btree ("expires_at");