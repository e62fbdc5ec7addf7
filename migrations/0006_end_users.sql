ALTER TABLE `generations` ADD `end_user` text;--> statement-breakpoint
CREATE INDEX `generations_end_user_created_idx` ON `generations` (`end_user`,`created_at`);