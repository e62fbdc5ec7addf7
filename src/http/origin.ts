import type { IncomingHttpHeaders } from 'node:http';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/**
 * Open local mode makes every caller admin, trusting that only this machine can reach the loopback port. A web page
 * can still reach it through DNS rebinding (its own name resolving to 127.0.0.1, so the browser treats the gateway
 * as same-origin): such requests carry the page's host name, so a Host that is not a loopback name is refused.
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = hostName(host);
  return LOOPBACK_NAMES.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/**
 * WebSocket upgrades have no CORS preflight, so any page could open one (cross-site WebSocket hijacking). Browsers
 * always send Origin; other clients usually send none. A browser's socket is accepted from the gateway's own
 * origin (GraphiQL) and from SWITCHBOARD_CORS_ORIGINS only.
 */
export function isAllowedWebSocketOrigin(headers: IncomingHttpHeaders, corsOrigins: readonly string[]): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (corsOrigins.includes('*') || corsOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host.toLowerCase() === (headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}
