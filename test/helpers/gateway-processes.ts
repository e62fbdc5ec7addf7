import { createTestDatabase } from '../storage/stores.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The one database several gateway processes share in the scale-out tests: a PostgreSQL database of its own on
 * 127.0.0.1:5432 (issue 16 runs instances on PostgreSQL), created here and dropped by `drop()`. An unreachable
 * PostgreSQL fails the test; it never skips.
 */
export async function sharedDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const database = await createTestDatabase('postgres');
  return { url: database.url, drop: () => database.drop() };
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = (server.address() as AddressInfo);
      server.close(() => resolvePort(port));
    });
  });
}

export interface GatewayProcess {
  url: string;
  wsUrl: string;
  process: ChildProcess;
  /** What it logged (pino JSON lines on stdout, and stderr), for assertions on log lines and for failures. */
  output(): string;
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, secret?: string): Promise<{ data?: T | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  stop(): Promise<void>;
  kill(): void;
}

/** Starts `src/index.ts` in a process of its own on a free loopback port, configured by `env` only. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', SWITCHBOARD_LOCAL_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    // Only the interesting lines are kept: an access line per request would grow without bound.
    for (const line of chunk.toString('utf8').split('\n')) if (line.includes('edis') || line.includes('"level":50') || line.includes('"level":60') || !line.startsWith('{')) output += line + '\n';
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}): ${output.slice(0, 3000)}`);
    const ok = await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway not up within 60 s: ${output.slice(0, 3000)}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    process: child,
    output: () => output,
    async graphql<T>(query: string, variables: Record<string, unknown> = {}, secret?: string) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: T | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}

/** A temporary directory for a test's shared database file; removed by the returned function. */
export function scratchDirectory(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'switchboard-scale-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passed; returns whether it held. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolveWait) => setTimeout(resolveWait, 20));
  }
}
