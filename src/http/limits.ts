import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_UPSTREAM_BODY_BYTES } from '../providers/http.js';

/**
 * Everything that bounds what one client can make the gateway do: document shape, body size, timeouts, WebSocket
 * fan-out, and who may call from a browser. Read from the environment like the rest of Config; the defaults are
 * safe for a public deployment and loose enough for GraphiQL, SDKs and base64 images.
 */
export interface LimitsConfig {
  /** Largest request body (GraphQL over HTTP, WebSocket message): room for a few base64 images. */
  maxBodyBytes: number;
  /** Largest upstream response or error body read whole, and longest line of an upstream stream (src/providers/http.ts). */
  maxUpstreamBodyBytes: number;
  /** Browser origins allowed to call cross-origin; empty means none (no CORS headers at all). */
  corsOrigins: string[];
  /** Off in production hides the schema from strangers; GraphiQL needs it on. */
  introspection: boolean;
  /**
   * Requests (HTTP and WebSocket operations) in flight at once; the next is answered 503 with Retry-After at once
   * (load shedding) instead of queueing without bound. /healthz, /readyz and /metrics never count.
   */
  maxInflight: number;
  graphql: {
    maxDepth: number;
    /** How many values an answer may hold, estimated from page sizes and list nesting (src/schema/limits.ts). */
    maxCost: number;
    maxAliases: number;
    maxDirectives: number;
    maxTokens: number;
  };
  http: {
    /** A client must finish sending its headers within this (slowloris). */
    headersTimeoutMs: number;
    /** …and its whole request (headers and body) within this; responses such as SSE streams may run longer. */
    requestTimeoutMs: number;
    /** An idle keep-alive socket is closed after this. */
    keepAliveTimeoutMs: number;
    /** How often Node checks the two timeouts above; they are only as precise as this. */
    connectionsCheckingIntervalMs: number;
  };
  webSocket: {
    /** A socket that has not sent connection_init by then is closed (4408). */
    connectionInitTimeoutMs: number;
    /** Ping interval; a socket that misses a pong for as long is terminated. 0 turns pings off. */
    keepAliveMs: number;
    maxSubscriptionsPerConnection: number;
    /** Open sockets per API key (the admin key and open local mode count as one key). */
    maxConnectionsPerKey: number;
  };
}

function splitOrigins(value: string): string[] {
  return value
    .split(',')
    .map((origin) => origin.trim().replace(/\/+$/, ''))
    .filter((origin) => origin !== '');
}

const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/**
 * In-flight requests per core when SWITCHBOARD_MAX_INFLIGHT is unset. A completion mostly waits on its upstream, so
 * a core carries hundreds of them (each holds a socket, its body and a few parsers: tens of KB, up to the body
 * limit); past a few hundred per core, JSON and SSE work per request starts to show as event-loop delay for all of
 * them, which is when answering 503 at once beats making everyone slower.
 */
export const INFLIGHT_PER_CORE = 256;

export const limitsEnvSchema = z.object({
  SWITCHBOARD_MAX_BODY_BYTES: positiveInt(10 * 1024 * 1024),
  SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES: positiveInt(DEFAULT_MAX_UPSTREAM_BODY_BYTES),
  SWITCHBOARD_CORS_ORIGINS: z
    .string()
    .default('')
    .refine((value) => splitOrigins(value).every((origin) => origin === '*' || /^https?:\/\/[^/\s]+$/.test(origin)), {
      message: 'a comma-separated list of origins such as https://app.example.com',
    }),
  SWITCHBOARD_INTROSPECTION: z.enum(['true', 'false']).default('true'),
  SWITCHBOARD_GRAPHQL_MAX_DEPTH: positiveInt(12),
  SWITCHBOARD_GRAPHQL_MAX_COST: positiveInt(50_000),
  SWITCHBOARD_GRAPHQL_MAX_ALIASES: nonNegativeInt(30),
  SWITCHBOARD_GRAPHQL_MAX_DIRECTIVES: nonNegativeInt(50),
  SWITCHBOARD_GRAPHQL_MAX_TOKENS: positiveInt(5000),
  SWITCHBOARD_HEADERS_TIMEOUT_MS: positiveInt(20_000),
  SWITCHBOARD_REQUEST_TIMEOUT_MS: positiveInt(120_000),
  SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS: positiveInt(5_000),
  SWITCHBOARD_CONNECTIONS_CHECK_MS: positiveInt(2_000),
  SWITCHBOARD_WS_INIT_TIMEOUT_MS: positiveInt(5_000),
  SWITCHBOARD_WS_KEEPALIVE_MS: nonNegativeInt(12_000),
  SWITCHBOARD_WS_MAX_SUBSCRIPTIONS: positiveInt(100),
  SWITCHBOARD_WS_MAX_CONNECTIONS_PER_KEY: positiveInt(256),
  SWITCHBOARD_MAX_INFLIGHT: positiveInt(INFLIGHT_PER_CORE * availableParallelism()),
});

export type LimitsEnv = z.infer<typeof limitsEnvSchema>;

export function toLimitsConfig(values: LimitsEnv): LimitsConfig {
  return {
    maxBodyBytes: values.SWITCHBOARD_MAX_BODY_BYTES,
    maxUpstreamBodyBytes: values.SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES,
    corsOrigins: splitOrigins(values.SWITCHBOARD_CORS_ORIGINS),
    introspection: values.SWITCHBOARD_INTROSPECTION === 'true',
    maxInflight: values.SWITCHBOARD_MAX_INFLIGHT,
    graphql: {
      maxDepth: values.SWITCHBOARD_GRAPHQL_MAX_DEPTH,
      maxCost: values.SWITCHBOARD_GRAPHQL_MAX_COST,
      maxAliases: values.SWITCHBOARD_GRAPHQL_MAX_ALIASES,
      maxDirectives: values.SWITCHBOARD_GRAPHQL_MAX_DIRECTIVES,
      maxTokens: values.SWITCHBOARD_GRAPHQL_MAX_TOKENS,
    },
    http: {
      // Node refuses a headers timeout longer than the request timeout at server construction.
      headersTimeoutMs: Math.min(values.SWITCHBOARD_HEADERS_TIMEOUT_MS, values.SWITCHBOARD_REQUEST_TIMEOUT_MS),
      requestTimeoutMs: values.SWITCHBOARD_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: values.SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingIntervalMs: values.SWITCHBOARD_CONNECTIONS_CHECK_MS,
    },
    webSocket: {
      connectionInitTimeoutMs: values.SWITCHBOARD_WS_INIT_TIMEOUT_MS,
      keepAliveMs: values.SWITCHBOARD_WS_KEEPALIVE_MS,
      maxSubscriptionsPerConnection: values.SWITCHBOARD_WS_MAX_SUBSCRIPTIONS,
      maxConnectionsPerKey: values.SWITCHBOARD_WS_MAX_CONNECTIONS_PER_KEY,
    },
  };
}
