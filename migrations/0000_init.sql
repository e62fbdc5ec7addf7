CREATE TABLE `generations` (
	`id` text PRIMARY KEY NOT NULL,
	`request_id` text,
	`api_key_id` text,
	`requested_model` text NOT NULL,
	`model_id` text,
	`provider_id` text,
	`provider_model_id` text,
	`status` text NOT NULL,
	`finish_reason` text,
	`raw_finish_reason` text,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`total_tokens` integer DEFAULT 0 NOT NULL,
	`cached_prompt_tokens` integer DEFAULT 0 NOT NULL,
	`reasoning_tokens` integer DEFAULT 0 NOT NULL,
	`usage_estimated` integer DEFAULT false NOT NULL,
	`cost_picos` integer,
	`prompt_price_micros` integer,
	`completion_price_micros` integer,
	`cached_prompt_price_micros` integer,
	`latency_ms` integer,
	`time_to_first_token_ms` integer,
	`streamed` integer NOT NULL,
	`error_code` text,
	`error_message` text,
	`warnings` text,
	`attempts` text,
	`metadata` text,
	`created_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `generations_created_idx` ON `generations` (`created_at`);--> statement-breakpoint
CREATE INDEX `generations_model_created_idx` ON `generations` (`model_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `generations_provider_created_idx` ON `generations` (`provider_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `generations_key_created_idx` ON `generations` (`api_key_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `generations_status_idx` ON `generations` (`status`) WHERE status = 'IN_PROGRESS';--> statement-breakpoint
CREATE TABLE `model_aliases` (
	`alias` text PRIMARY KEY NOT NULL,
	`model_id` text NOT NULL,
	FOREIGN KEY (`model_id`) REFERENCES `models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `model_aliases_model_idx` ON `model_aliases` (`model_id`);--> statement-breakpoint
CREATE TABLE `model_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`model_id` text NOT NULL,
	`provider_id` text NOT NULL,
	`provider_model_id` text NOT NULL,
	`prompt_price_micros` integer,
	`completion_price_micros` integer,
	`cached_prompt_price_micros` integer,
	`context_length` integer,
	`status` text DEFAULT 'ACTIVE' NOT NULL,
	`weight` integer DEFAULT 1 NOT NULL,
	`price_source` text,
	`price_date` text,
	`edited_by_admin` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`model_id`) REFERENCES `models`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `model_endpoints_provider_model_idx` ON `model_endpoints` (`provider_id`,`provider_model_id`);--> statement-breakpoint
CREATE INDEX `model_endpoints_model_idx` ON `model_endpoints` (`model_id`);--> statement-breakpoint
CREATE TABLE `models` (
	`id` text PRIMARY KEY NOT NULL,
	`vendor` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`context_length` integer NOT NULL,
	`max_output_tokens` integer,
	`input_modalities` text NOT NULL,
	`output_modalities` text NOT NULL,
	`supported_parameters` text NOT NULL,
	`released_at` text,
	`edited_by_admin` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `models_vendor_idx` ON `models` (`vendor`);--> statement-breakpoint
CREATE TABLE `providers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`base_url` text,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
