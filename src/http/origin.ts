import type { IncomingHttpHeaders } from 'node:http';

/**
 * Whether a browser page on `Origin` may make the gateway act: no Origin (a client that is not a browser, or a
 * same-origin GET), the gateway's own origin (GraphiQL), or one SWITCHBOARD_CORS_ORIGINS lists. Anything else is
 * another site acting through the visitor's browser.
 */
export function isAllowedOrigin(headers: IncomingHttpHeaders, corsOrigins: readonly string[]): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (corsOrigins.includes('*') || corsOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host.toLowerCase() === (headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

/**
 * WebSocket upgrades have no CORS preflight, so any page could open one (cross-site WebSocket hijacking). Browsers
 * always send Origin; other clients usually send none. A browser's socket is accepted from the gateway's own
 * origin (GraphiQL) and from SWITCHBOARD_CORS_ORIGINS only.
 */
export function isAllowedWebSocketOrigin(headers: IncomingHttpHeaders, corsOrigins: readonly string[]): boolean {
  return isAllowedOrigin(headers, corsOrigins);
}
