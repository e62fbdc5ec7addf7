CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"secret_hash" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"allowed_models" jsonb,
	"requests_per_minute" integer,
	"tokens_per_minute" integer,
	"concurrent_streams" integer,
	"budget_limit_picos" bigint,
	"budget_period" text,
	"metadata" jsonb,
	"cache_ttl_seconds" integer,
	"expires_at" bigint,
	"revoked_at" bigint,
	"created_at" bigint NOT NULL,
	"last_used_at" bigint
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"actor_key_id" text,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "generation_contents" (
	"generation_id" text PRIMARY KEY NOT NULL,
	"content" jsonb NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "generations" (
	"id" text PRIMARY KEY NOT NULL,
	"request_id" text,
	"api_key_id" text,
	"requested_model" text NOT NULL,
	"model_id" text,
	"provider_id" text,
	"provider_model_id" text,
	"status" text NOT NULL,
	"finish_reason" text,
	"raw_finish_reason" text,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"total_tokens" integer DEFAULT 0 NOT NULL,
	"cached_prompt_tokens" integer DEFAULT 0 NOT NULL,
	"cache_write_5m_tokens" integer DEFAULT 0 NOT NULL,
	"cache_write_1h_tokens" integer DEFAULT 0 NOT NULL,
	"reasoning_tokens" integer DEFAULT 0 NOT NULL,
	"usage_estimated" boolean DEFAULT false NOT NULL,
	"cost_picos" bigint,
	"prompt_price_micros" bigint,
	"completion_price_micros" bigint,
	"cached_prompt_price_micros" bigint,
	"cache_write_price_micros" bigint,
	"latency_ms" integer,
	"time_to_first_token_ms" integer,
	"streamed" boolean NOT NULL,
	"error_code" text,
	"error_message" text,
	"warnings" jsonb,
	"attempts" jsonb,
	"request_summary" jsonb,
	"metadata" jsonb,
	"end_user" text,
	"cache_hit" boolean DEFAULT false NOT NULL,
	"saved_picos" bigint,
	"instance_id" text,
	"created_at" bigint NOT NULL,
	"finished_at" bigint
);
--> statement-breakpoint
CREATE TABLE "model_aliases" (
	"alias" text PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"provider_id" text NOT NULL,
	"provider_model_id" text NOT NULL,
	"prompt_price_micros" bigint,
	"completion_price_micros" bigint,
	"cached_prompt_price_micros" bigint,
	"cache_write_price_micros" bigint,
	"context_length" integer,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"weight" integer DEFAULT 1 NOT NULL,
	"price_source" text,
	"price_date" text,
	"edited_by_admin" boolean DEFAULT false NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" text PRIMARY KEY NOT NULL,
	"vendor" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"context_length" integer NOT NULL,
	"max_output_tokens" integer,
	"input_modalities" jsonb NOT NULL,
	"output_modalities" jsonb NOT NULL,
	"supported_parameters" jsonb NOT NULL,
	"released_at" text,
	"edited_by_admin" boolean DEFAULT false NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "providers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"base_url" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"api_key_ciphertext" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "response_cache" (
	"key" text PRIMARY KEY NOT NULL,
	"answer" text NOT NULL,
	"size_bytes" integer NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "generation_contents" ADD CONSTRAINT "generation_contents_generation_id_generations_id_fk" FOREIGN KEY ("generation_id") REFERENCES "public"."generations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_endpoints" ADD CONSTRAINT "model_endpoints_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_endpoints" ADD CONSTRAINT "model_endpoints_provider_id_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."providers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_secret_hash_idx" ON "api_keys" USING btree ("secret_hash");--> statement-breakpoint
CREATE INDEX "audit_log_created_idx" ON "audit_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("target_type","target_id");--> statement-breakpoint
CREATE INDEX "generations_created_idx" ON "generations" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "generations_model_created_idx" ON "generations" USING btree ("model_id","created_at");--> statement-breakpoint
CREATE INDEX "generations_provider_created_idx" ON "generations" USING btree ("provider_id","created_at");--> statement-breakpoint
CREATE INDEX "generations_key_created_idx" ON "generations" USING btree ("api_key_id","created_at");--> statement-breakpoint
CREATE INDEX "generations_end_user_created_idx" ON "generations" USING btree ("end_user","created_at");--> statement-breakpoint
CREATE INDEX "generations_status_idx" ON "generations" USING btree ("status") WHERE status = 'IN_PROGRESS';--> statement-breakpoint
CREATE INDEX "model_aliases_model_idx" ON "model_aliases" USING btree ("model_id");--> statement-breakpoint
CREATE UNIQUE INDEX "model_endpoints_provider_model_idx" ON "model_endpoints" USING btree ("provider_id","provider_model_id");--> statement-breakpoint
CREATE INDEX "model_endpoints_model_idx" ON "model_endpoints" USING btree ("model_id");--> statement-breakpoint
CREATE INDEX "models_vendor_idx" ON "models" USING btree ("vendor");--> statement-breakpoint
CREATE INDEX "response_cache_age_idx" ON "response_cache" USING btree ("created_at","key","size_bytes");--> statement-breakpoint
CREATE INDEX "response_cache_expires_idx" ON "response_cache" USING btree ("expires_at");