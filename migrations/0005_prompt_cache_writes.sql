ALTER TABLE `generations` ADD `cache_write_5m_tokens` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `generations` ADD `cache_write_1h_tokens` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `generations` ADD `cache_write_price_micros` integer;--> statement-breakpoint
ALTER TABLE `model_endpoints` ADD `cache_write_price_micros` integer;