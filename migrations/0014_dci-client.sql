CREATE TABLE "dci_client_callbacks" (
	"source_id" bigint NOT NULL,
	"message_id" text NOT NULL,
	"action" text NOT NULL,
	"transaction_id" text,
	"correlation_id" text,
	"outcome" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dci_client_callbacks_source_id_message_id_pk" PRIMARY KEY("source_id","message_id")
);
--> statement-breakpoint
CREATE TABLE "dci_client_subscriptions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"source_id" bigint NOT NULL,
	"transaction_id" text NOT NULL,
	"reference_id" text NOT NULL,
	"subscription_code" text,
	"event_types" text[] DEFAULT '{}' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dci_client_subscriptions_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "dci_client_transactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source_id" bigint NOT NULL,
	"transaction_id" text NOT NULL,
	"action" text NOT NULL,
	"correlation_id" text,
	"reference_ids" text[] DEFAULT '{}' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"answered_by" text,
	"response_encrypted" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"answered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "dci_data_sources" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"registry_type" text NOT NULL,
	"base_url" text NOT NULL,
	"paths" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"auth_type" text DEFAULT 'none' NOT NULL,
	"oauth_client_id" text,
	"secrets_encrypted" text,
	"our_sender_id" text NOT NULL,
	"receiver_id" text NOT NULL,
	"signature_strategy" text DEFAULT 'signature-string' NOT NULL,
	"signing_kid" text,
	"jwks_url" text,
	"public_keys" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"require_signed_responses" boolean DEFAULT true NOT NULL,
	"callback_url" text,
	"callback_client_id" text,
	"verify_tls" boolean DEFAULT true NOT NULL,
	"timeout_ms" integer DEFAULT 30000 NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"last_test_at" timestamp with time zone,
	"last_test_result" jsonb,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dci_data_sources_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "dci_data_sources_code_unique" UNIQUE("code"),
	CONSTRAINT "dci_data_sources_callback_client_id_unique" UNIQUE("callback_client_id")
);
--> statement-breakpoint
CREATE TABLE "dci_external_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"source_id" bigint NOT NULL,
	"event_type" text NOT NULL,
	"reg_event_type" text,
	"message_id" text NOT NULL,
	"reference_id" text NOT NULL,
	"record_encrypted" text NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"outcome" jsonb,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dci_external_events_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
CREATE TABLE "dci_outgoing_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uuid" uuid NOT NULL,
	"source_id" bigint NOT NULL,
	"operation" text NOT NULL,
	"url" text NOT NULL,
	"transaction_id" text,
	"message_id" text,
	"outcome" text NOT NULL,
	"http_status" integer,
	"attempts" integer DEFAULT 1 NOT NULL,
	"duration_ms" integer NOT NULL,
	"summary" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dci_outgoing_calls_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
ALTER TABLE "dci_client_callbacks" ADD CONSTRAINT "dci_client_callbacks_source_id_dci_data_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."dci_data_sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_client_subscriptions" ADD CONSTRAINT "dci_client_subscriptions_source_id_dci_data_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."dci_data_sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_client_transactions" ADD CONSTRAINT "dci_client_transactions_source_id_dci_data_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."dci_data_sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_data_sources" ADD CONSTRAINT "dci_data_sources_callback_client_id_api_clients_client_id_fk" FOREIGN KEY ("callback_client_id") REFERENCES "public"."api_clients"("client_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_external_events" ADD CONSTRAINT "dci_external_events_source_id_dci_data_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."dci_data_sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dci_outgoing_calls" ADD CONSTRAINT "dci_outgoing_calls_source_id_dci_data_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."dci_data_sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "dci_client_transactions_txn_idx" ON "dci_client_transactions" USING btree ("source_id","transaction_id");--> statement-breakpoint
CREATE UNIQUE INDEX "dci_external_events_ref_idx" ON "dci_external_events" USING btree ("source_id","message_id","reference_id");--> statement-breakpoint
CREATE INDEX "dci_external_events_status_idx" ON "dci_external_events" USING btree ("status");--> statement-breakpoint
CREATE INDEX "dci_outgoing_calls_created_idx" ON "dci_outgoing_calls" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "dci_outgoing_calls_source_idx" ON "dci_outgoing_calls" USING btree ("source_id","created_at");