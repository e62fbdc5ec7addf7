import { openDatabase } from '../src/db/client.js';
import { openPostgres } from '../src/db/pg/client.js';
import { copySqliteToPostgres } from '../src/db/tools/copy.js';

/**
 * npm run db:copy -- --from file:./switchboard.db --to postgres://…: moves a SQLite gateway's ledger, stored
 * contents, keys, catalog edits, providers and audit trail into PostgreSQL (migrating it first). Idempotent: rows
 * are upserted by primary key. Ends with each table's row counts and the ledger's total cost on both sides, and
 * fails when PostgreSQL holds fewer rows or a different total than the file.
 */
function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const from = argument('--from');
  const to = argument('--to');
  if (!from?.startsWith('file:') || !to || !(to.startsWith('postgres://') || to.startsWith('postgresql://'))) {
    console.error('usage: npm run db:copy -- --from file:./switchboard.db --to postgres://user@host:5432/db');
    process.exitCode = 2;
    return;
  }
  const source = openDatabase(from.slice('file:'.length));
  const target = openPostgres(to, { max: 2 });
  try {
    await target.migrate();
    const report = await copySqliteToPostgres(source.db, target.db, target.client, (line) => console.log(line));
    console.log('table                 sqlite  postgres');
    for (const row of report.tables) console.log(`${row.table.padEnd(20)} ${String(row.source).padStart(7)} ${String(row.target).padStart(9)}`);
    console.log(`total cost (picos)   sqlite ${report.sourceCostPicos}  postgres ${report.targetCostPicos}`);
    const short = report.tables.filter((row) => row.target < row.source);
    const ledger = report.tables.find((row) => row.table === 'generations');
    if (short.length > 0 || (ledger && ledger.source === ledger.target && report.sourceCostPicos !== report.targetCostPicos)) {
      console.error(`copy incomplete: ${short.map((row) => row.table).join(', ') || 'the total cost differs'}`);
      process.exitCode = 1;
    } else console.log('copy verified');
  } finally {
    source.close();
    await target.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
