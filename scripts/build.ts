import { chmodSync, cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildDashboard, DASHBOARD_OUTPUT, DASHBOARD_SOURCE } from './dashboard.js';

// `npm run build`: compiles src/ to dist/ and copies the files the compiled code reads next to itself at run time
// (the seed catalog), and bundles the dashboard, so `node dist/index.js` runs without tsx. dist/ is emptied first: a module deleted or
// renamed in src/ must not linger in dist/ and be loaded by a stale import. Migrations are not copied: the client
// finds them at `<package>/migrations` from both src/db and dist/db.

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Files under src/ that are not TypeScript but are read at run time relative to the module that reads them. */
function runtimeAssets(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    // The dashboard's sources are bundled below, not read at run time.
    if (entry.isDirectory()) return path === DASHBOARD_SOURCE ? [] : runtimeAssets(path);
    return entry.name.endsWith('.json') ? [path] : [];
  });
}

rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

for (const asset of runtimeAssets(src)) {
  cpSync(asset, join(dist, relative(src, asset)));
}

// The dashboard (GET /dashboard): bundled into static files the gateway serves from dist/dashboard.
await buildDashboard(DASHBOARD_OUTPUT);

// The bin entry: npm links it executable when the package is installed, but a build in place must be runnable too.
const cli = join(dist, 'cli.js');
if (existsSync(cli)) chmodSync(cli, 0o755);

console.log(`built ${relative(root, dist)}/`);
