import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { BadRequestError } from '../errors.js';

/**
 * Where a base URL set through the admin API may send calls. An admin key must not be able to turn the gateway
 * into a proxy onto the machine's own network: link-local and cloud metadata addresses (which hand out instance
 * credentials) are always refused, other private ranges unless the operator allows them, and the check runs on
 * the address actually connected to, so a host name that resolves (or later re-resolves) to a refused address
 * is caught too. Loopback stays allowed: self-hosted servers and Ollama listen there. Providers configured by the
 * environment or the config file do not go through here; the operator may point those anywhere.
 */

export interface UpstreamPolicy {
  /** SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS: private ranges (10/8, 172.16/12, 192.168/16, CGNAT, fc00::/7…) are allowed. */
  allowPrivate: boolean;
}

export type AddressClass = 'loopback' | 'link-local' | 'private' | 'public';

const IPV4_LINK_LOCAL: ReadonlyArray<readonly [string, number]> = [['169.254.0.0', 16]];
const IPV4_PRIVATE: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
];

/**
 * IPv6 prefixes that carry an IPv4 address a router or the kernel may translate to: IPv4-mapped (::ffff:0:0/96,
 * which Node's BlockList already matches against IPv4 rules, listed for clarity), IPv4-compatible (::/96), NAT64
 * (64:ff9b::/96) and 6to4 (2002::/16, the address in bits 16–47). Each IPv4 rule is added under each of them, so
 * `::ffff:169.254.169.254` or `64:ff9b::a9fe:a9fe` is refused like `169.254.169.254`.
 */
function embeddedRules(list: BlockList, [address, prefix]: readonly [string, number]): void {
  list.addSubnet(address, prefix, 'ipv4');
  list.addSubnet(`::ffff:${address}`, 96 + prefix, 'ipv6');
  list.addSubnet(`::${address}`, 96 + prefix, 'ipv6');
  list.addSubnet(`64:ff9b::${address}`, 96 + prefix, 'ipv6');
  const [a = 0, b = 0, c = 0, d = 0] = address.split('.').map(Number);
  const hex = (high: number, low: number): string => ((high << 8) | low).toString(16);
  list.addSubnet(`2002:${hex(a, b)}:${hex(c, d)}::`, 16 + prefix, 'ipv6');
}

const linkLocal = new BlockList();
for (const rule of IPV4_LINK_LOCAL) embeddedRules(linkLocal, rule);
linkLocal.addSubnet('fe80::', 10, 'ipv6');
// AWS's IPv6 instance metadata endpoint sits inside fc00::/7, but unlike the rest of that range it is never allowed.
linkLocal.addAddress('fd00:ec2::254', 'ipv6');

const privateRanges = new BlockList();
for (const rule of IPV4_PRIVATE) embeddedRules(privateRanges, rule);
privateRanges.addSubnet('fc00::', 7, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** What kind of address an IP literal is; link-local is checked first so no wider rule can let it through. */
export function classifyAddress(address: string): AddressClass {
  const ip = stripBrackets(address);
  const family = isIP(ip);
  if (family === 0) throw new TypeError(`${address} is not an IP address`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (linkLocal.check(ip, type)) return 'link-local';
  if (loopback.check(ip, type)) return 'loopback';
  if (privateRanges.check(ip, type)) return 'private';
  return 'public';
}

/** Why an address may not be used under the policy (to follow "<address> is "), or undefined when it may. */
export function addressRefusal(address: string, policy: UpstreamPolicy): string | undefined {
  const kind = classifyAddress(address);
  if (kind === 'link-local') return 'a link-local or cloud metadata address, which a base URL set through the API may never reach';
  if (kind === 'private' && !policy.allowPrivate) return 'a private network address (set SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS=true to allow private upstreams)';
  return undefined;
}

/**
 * Checks a base URL given to the admin API before it is stored. A host given as an IP literal (in any spelling:
 * the WHATWG URL parser has already turned decimal, octal, hex and short IPv4 forms into dotted quads) is judged
 * here; a host name is judged at connect time, when it has been resolved.
 */
export function checkUpstreamUrl(url: URL, policy: UpstreamPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError('baseUrl must be an absolute http(s) URL', 'baseUrl');
  const host = stripBrackets(url.hostname);
  if (isIP(host) === 0) return;
  const refusal = addressRefusal(host, policy);
  if (refusal !== undefined) throw new BadRequestError(`baseUrl refused: ${host} is ${refusal}`, 'baseUrl');
}

/** A connection the guard refused; callUpstream reports it as a network failure naming the provider. */
export class UpstreamAddressError extends Error {
  readonly code = 'ERR_UPSTREAM_ADDRESS_REFUSED';
}

/** Every address a host name resolves to; injectable so tests can play a DNS server that rebinds. */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/**
 * A `lookup` for net.connect/tls.connect that resolves every address of the host and refuses the connection
 * when any of them is refused: checking only the first would let a name that lists a public address beside a
 * metadata one through whenever the connector falls back to the second (happy eyeballs).
 */
export function guardedLookup(policy: UpstreamPolicy, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (resolved) => {
        for (const entry of resolved) {
          const refusal = addressRefusal(entry.address, policy);
          if (refusal !== undefined) {
            callback(new UpstreamAddressError(`Refused to connect to ${hostname}: it resolves to ${entry.address}, ${refusal}`), []);
            return;
          }
        }
        const wanted = options.family === 4 || options.family === 6 ? resolved.filter((entry) => entry.family === options.family) : resolved;
        const first = wanted[0];
        if (first === undefined) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
          return;
        }
        if (options.all === true) callback(null, wanted);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

export interface UpstreamGuard {
  policy: UpstreamPolicy;
  /** The connection pool for providers whose base URL came from the admin API. */
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** The same pool settings as the shared upstream agent (src/providers/http.ts), with every connection checked. */
export function createUpstreamGuard(policy: UpstreamPolicy, options: { resolve?: Resolve } = {}): UpstreamGuard {
  const connectThroughLookup = buildConnector({ timeout: 10_000, lookup: guardedLookup(policy, options.resolve) });
  // net.connect skips `lookup` for a host that is already an IP literal, so literals are judged here; a stored
  // base URL from before this check existed reaches the connector without having passed checkUpstreamUrl.
  const connect: buildConnector.connector = (connectOptions, callback) => {
    const host = stripBrackets(connectOptions.hostname);
    if (isIP(host) !== 0) {
      const refusal = addressRefusal(host, policy);
      if (refusal !== undefined) {
        callback(new UpstreamAddressError(`Refused to connect to ${host}: it is ${refusal}`), null);
        return;
      }
    }
    connectThroughLookup(connectOptions, callback);
  };
  const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 256, pipelining: 1, connect });
  return { policy, dispatcher: agent, close: () => agent.close() };
}
