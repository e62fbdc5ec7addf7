import type { ServerOptions } from 'node:http';
import type { CORSOptions } from 'graphql-yoga';
import { CSRF_HEADERS } from './csrf.js';
import type { LimitsConfig } from './limits.js';

/**
 * node:http options that keep a slow or idle client from holding a socket: headers and whole requests must arrive
 * in bounded time (a slowloris connection is answered 408 and closed), idle keep-alive sockets are closed.
 * Response time is not bounded here: an SSE completion stream may legitimately run for minutes.
 */
export function httpServerOptions(limits: LimitsConfig): ServerOptions {
  return {
    headersTimeout: limits.http.headersTimeoutMs,
    requestTimeout: limits.http.requestTimeoutMs,
    keepAliveTimeout: limits.http.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.http.connectionsCheckingIntervalMs,
    // Node's own default, said out loud: a request whose headers exceed it is answered 431.
    maxHeaderSize: 16 * 1024,
  };
}

/**
 * Yoga answers every origin by default; the gateway answers none unless SWITCHBOARD_CORS_ORIGINS lists them.
 * Credentials are never allowed: auth is a bearer token, so no browser cookie should ride along.
 */
export function corsOptions(origins: readonly string[]): CORSOptions | false {
  if (origins.length === 0) return false;
  return {
    origin: origins.includes('*') ? '*' : [...origins],
    credentials: false,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'accept', 'x-request-id', ...CSRF_HEADERS],
    exposedHeaders: ['x-request-id'],
    maxAge: 600,
  };
}
