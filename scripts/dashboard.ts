import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Bundles the dashboard (src/dashboard/ui, preact + uPlot + graphql-ws) into static files: index.html and content-hashed
// assets under assets/, which src/http/dashboard.ts serves from memory. Hashed names let the assets be cached for
// a year; index.html, which names them, is revalidated on every load. Everything is local: no CDN, no inline code,
// so the page runs under a Content-Security-Policy of its own origin only.

const root = fileURLToPath(new URL('..', import.meta.url));
export const DASHBOARD_SOURCE = join(root, 'src', 'dashboard', 'ui');
export const DASHBOARD_OUTPUT = join(root, 'dist', 'dashboard');

export async function buildDashboard(outDir: string = DASHBOARD_OUTPUT): Promise<{ files: string[] }> {
  rmSync(outDir, { recursive: true, force: true });
  const assets = join(outDir, 'assets');
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: { app: join(DASHBOARD_SOURCE, 'main.tsx') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: assets,
    metafile: true,
    logLevel: 'silent',
    tsconfig: join(DASHBOARD_SOURCE, 'tsconfig.json'),
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = outputs.find((name) => name.endsWith('.js'));
  const style = outputs.find((name) => name.endsWith('.css'));
  if (!script || !style) throw new Error(`dashboard build produced ${outputs.join(', ')}; expected one .js and one .css`);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Switchboard</title>
<link rel="stylesheet" href="/dashboard/assets/${style}">
<script type="module" src="/dashboard/assets/${script}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
  writeFileSync(join(outDir, 'index.html'), html);
  return { files: ['index.html', `assets/${script}`, `assets/${style}`] };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files } = await buildDashboard();
  console.log(`built ${relative(root, DASHBOARD_OUTPUT)}/ (${files.join(', ')})`);
}
