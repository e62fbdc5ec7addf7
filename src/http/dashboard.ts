import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * GET /dashboard: the static files `npm run build` bundles (scripts/dashboard.ts), read into memory once. The page
 * is only a client of the public GraphQL API, so serving it needs no key: what it shows, the API decides.
 *
 * Caching: the assets' names carry a hash of their content, so they are cached for a year and never revalidated;
 * index.html names them and is revalidated on every load (an ETag makes that a 304). The Content-Security-Policy
 * allows scripts and styles from this origin only (no inline code, no CDN) and connections to /graphql only.
 */

/** Where `npm run build` puts the bundle: <package>/dist/dashboard, from src/http and from dist/http alike. */
export const DEFAULT_DASHBOARD_DIRECTORY = fileURLToPath(new URL('../../dist/dashboard', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** A Host header fit to appear in a CSP source (no spaces, quotes, semicolons or commas). */
const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export function contentSecurityPolicy(host: string | undefined): string {
  // connect-src names /graphql exactly (HTTP and its WebSocket upgrade) when the host can be written into the policy;
  // otherwise only the page's own origin.
  const connect = host && SAFE_HOST.test(host) ? [`http://${host}/graphql`, `https://${host}/graphql`, `ws://${host}/graphql`, `wss://${host}/graphql`].join(' ') : "'self'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function load(directory: string): Map<string, Asset> | null {
  const index = join(directory, 'index.html');
  if (!existsSync(index)) return null;
  const assets = new Map<string, Asset>();
  const add = (urlPath: string, file: string, cacheControl: string): void => {
    const body = readFileSync(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(urlPath, { body, type: TYPES[extname(file)] ?? 'application/octet-stream', etag, cacheControl });
  };
  add('/dashboard', index, REVALIDATE);
  const assetDirectory = join(directory, 'assets');
  if (existsSync(assetDirectory)) {
    for (const name of readdirSync(assetDirectory)) add(`/dashboard/assets/${name}`, join(assetDirectory, name), IMMUTABLE);
  }
  return assets;
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}

/** Serves the bundle in `directory`; a gateway started without a build answers 503 saying how to build it. */
export function createDashboardHandler(directory: string = DEFAULT_DASHBOARD_DIRECTORY): DashboardHandler {
  const assets = load(directory);
  return (req, res, path) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'The dashboard only answers GET and HEAD', { allow: 'GET, HEAD' });
      return;
    }
    if (!assets) {
      sendText(res, 503, 'The dashboard is not built: run `npm run build` (npm start does) and restart the gateway');
      return;
    }
    const asset = assets.get(path === '/dashboard/' || path === '/dashboard/index.html' ? '/dashboard' : path);
    if (!asset) {
      sendText(res, 404, `No dashboard file ${path}`);
      return;
    }
    const headers: Record<string, string> = {
      'content-type': asset.type,
      'cache-control': asset.cacheControl,
      etag: asset.etag,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
    };
    if (asset.type.startsWith('text/html')) {
      headers['content-security-policy'] = contentSecurityPolicy(req.headers.host);
      headers['x-frame-options'] = 'DENY';
    }
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = String(asset.body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };
}
