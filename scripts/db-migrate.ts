import { openDatabase } from '../src/db/client.js';
import { openPostgres } from '../src/db/pg/client.js';

/**
 * npm run db:migrate [-- --url <DATABASE_URL>]: applies pending migrations to the database DATABASE_URL names
 * (PostgreSQL: migrations/pg; SQLite: migrations/, which the gateway also applies itself at start-up). Instances
 * started afterwards find nothing to do; running it twice is harmless.
 */
async function main(): Promise<void> {
  const flag = process.argv.indexOf('--url');
  const url = (flag >= 0 ? process.argv[flag + 1] : undefined) ?? process.env['DATABASE_URL'] ?? 'file:./switchboard.db';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const handle = openPostgres(url, { max: 1 });
    try {
      const before = await handle.pendingMigrations();
      await handle.migrate();
      const after = await handle.pendingMigrations();
      console.log(`PostgreSQL: applied ${before.length - after.length} migration(s)${before.length > 0 ? ` (${before.join(', ')})` : ''}; pending: ${after.length}`);
      if (after.length > 0) process.exitCode = 1;
    } finally {
      await handle.close();
    }
    return;
  }
  const path = url.startsWith('file:') ? url.slice('file:'.length) : url;
  const handle = openDatabase(path);
  const pending = handle.pendingMigrations();
  handle.close();
  console.log(`SQLite ${path}: migrations applied; pending: ${pending.length}`);
  if (pending.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
