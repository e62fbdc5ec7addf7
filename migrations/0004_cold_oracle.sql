CREATE TABLE `response_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`answer` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `response_cache_age_idx` ON `response_cache` (`created_at`,`key`,`size_bytes`);--> statement-breakpoint
CREATE INDEX `response_cache_expires_idx` ON `response_cache` (`expires_at`);--> statement-breakpoint
ALTER TABLE `api_keys` ADD `cache_ttl_seconds` integer;--> statement-breakpoint
ALTER TABLE `generations` ADD `cache_hit` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `generations` ADD `saved_picos` integer;