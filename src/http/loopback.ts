import { isIPv4, isIPv6 } from 'node:net';

/**
 * The one loopback test, for the address the gateway binds to (config.ts) and for the Host header of each request
 * (open local mode's DNS-rebinding guard). Open local mode makes every caller admin on the promise that only this
 * machine can reach it, so a name merely *starting* like a loopback address (`127.attacker.example`,
 * `127.0.0.1.nip.io`) must not pass: those are DNS names anyone can point anywhere.
 */

/**
 * A bare host (no port): `localhost`, a dotted-quad IPv4 address in 127.0.0.0/8, or the IPv6 loopback, with or
 * without brackets. isIPv4 accepts only four decimal octets of at most 255 without leading zeros, so octal or
 * shortened spellings that some resolvers read differently are refused rather than guessed at.
 */
export function isLoopbackAddress(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost') return true;
  if (isIPv4(name)) return name.startsWith('127.');
  const unbracketed = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  // The URL parser writes every IPv6 spelling of ::1 (0:0:0:0:0:0:0:1, ::0001…) in its one canonical form.
  return isIPv6(unbracketed) && new URL(`http://[${unbracketed}]/`).hostname === '[::1]';
}

/**
 * A Host header (`name`, `name:port`, `[v6]`, `[v6]:port`). A request without one (HTTP/1.0) can only have come
 * from a client that did not go through a browser's name resolution, so it passes.
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true;
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(host);
  if (!match?.[1]) return false;
  // A bare IPv6 address in a Host header is malformed (RFC 9110 requires the brackets).
  return isLoopbackAddress(match[1]);
}
