import { defineConfig } from 'drizzle-kit';

/** PostgreSQL: its own schema twin and migrations folder; drizzle.config.ts stays SQLite for existing databases. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg/schema.ts',
  out: './migrations/pg',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchboard' },
});
