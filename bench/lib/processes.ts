/**
 * Child processes for the benchmarks: the fake OpenAI upstream and the gateway, each in its own process (optionally
 * pinned to a CPU with taskset), so the load generator does not share their event loops.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

let tasksetChecked: boolean | undefined;
function hasTaskset(): boolean {
  tasksetChecked ??= spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  return tasksetChecked;
}

/**
 * The CPU to pin the server under test to: the last core when there are at least two, none otherwise.
 * The load generator and the fake upstream are pinned to the remaining cores.
 */
export function cpuLayout(): { server: string | null; others: string | null } {
  const count = cpus().length;
  if (count < 2 || !hasTaskset()) return { server: null, others: null };
  return { server: String(count - 1), others: count === 2 ? '0' : `0-${count - 2}` };
}

/** Pins this (load generator) process to the non-server cores, when possible. */
export function pinSelf(): string | null {
  const { others } = cpuLayout();
  if (others === null) return null;
  const result = spawnSync('taskset', ['-pc', others, String(process.pid)], { stdio: 'ignore' });
  return result.status === 0 ? others : null;
}

export interface Child {
  process: ChildProcess;
  pid: number;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Spawns a process (pinned to `cpu` with taskset when given) and keeps the tail of its stderr. `stdout: 'ignore'`
 * for processes that log a line per request: an unread pipe would fill up and stall them.
 */
export function launch(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cpu: string | null,
  options: { cwd?: string; stdout?: 'pipe' | 'ignore' } = {},
): Child {
  const [file, argv] = cpu !== null ? ['taskset', ['-c', cpu, command, ...args]] : [command, args];
  const child = spawn(file, argv, { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return {
    process: child,
    pid: child.pid ?? -1,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Reads the first stdout line that parses as JSON. */
function firstJsonLine<T>(child: Child, timeoutMs: number): Promise<T> {
  return new Promise((resolveLine, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`no start-up line within ${timeoutMs} ms; stderr: ${child.stderr().slice(0, 2000)}`)), timeoutMs);
    child.process.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          const parsed = JSON.parse(line) as T;
          clearTimeout(timer);
          resolveLine(parsed);
          return;
        } catch {
          // not the line we wait for
        }
      }
    });
    child.process.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${String(code)}) before starting; stderr: ${child.stderr().slice(0, 2000)}`));
    });
  });
}

export interface Upstream extends Child {
  /** Base URL including /v1. */
  url: string;
  key: string;
}

export async function startUpstreamProcess(): Promise<Upstream> {
  const child = launch(process.execPath, ['--import', 'tsx', 'bench/upstream-process.ts'], { ...process.env, NODE_ENV: 'production' }, cpuLayout().others);
  const line = await firstJsonLine<{ url: string; key: string }>(child, 20_000);
  return { ...child, url: line.url, key: line.key };
}

/** Polls `url` until it answers 2xx. */
export async function waitHealthy(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`process exited (${child.process.exitCode}); stderr: ${child.stderr().slice(0, 2000)}`);
    try {
      const response = await request(url, { method: 'GET' });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy within ${timeoutMs} ms; stderr: ${child.stderr().slice(0, 2000)}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

export interface Gateway extends Child {
  url: string;
  wsUrl: string;
  /** The calling key's `Authorization` header value (empty in open local mode). */
  authorization: string;
  /** Headers every request to the gateway carries (the calling key's Authorization, when auth is on). */
  headers: Record<string, string>;
  /** Resident set size in KiB (VmRSS), or null when /proc is not readable. */
  rssKb(): number | null;
}

export interface GatewayOptions {
  upstream?: Upstream;
  env?: Record<string, string>;
  /** Directory for `node --cpu-prof` output; no profiling when undefined. */
  cpuProfDir?: string;
  /**
   * Open local mode run from src/ through tsx (every caller admin, logging silenced), as the older scenarios were
   * measured. By default the gateway runs as in production (issue 15): the built dist/ under plain node, auth on,
   * the calling key with a requests-per-minute limit far above the load, a tokens-per-minute limit and a budget,
   * logging at its default level.
   */
  open?: boolean;
  /** Another built checkout to run instead of this one (a baseline to compare with); its dist/ must be built. */
  root?: string;
}

/** The calling key of a production-like gateway: limits high enough never to refuse the bench, but present. */
const BENCH_KEY_SECRET = 'sk-bench-0123456789abcdef0123456789abcdef';
const BENCH_ADMIN_KEY = 'sk-bench-admin-0123456789abcdef0123456789';
const BENCH_CONFIG = `keys:
  - name: bench
    secret: \${SWITCHBOARD_BENCH_KEY}
    scopes: [COMPLETIONS, READ]
    rateLimit:
      requestsPerMinute: 10000000
      tokensPerMinute: 2000000000
      concurrentStreams: 100000
    budget:
      limitUsd: 1000000
      period: MONTHLY
`;

/** Builds dist/ (what `npm start` runs) once per process; `npm run bench -- --no-build` reuses the one there. */
let built = false;
export function ensureBuilt(skip = false): void {
  if (built) return;
  if (skip && existsSync(join(ROOT, 'dist', 'index.js'))) {
    built = true;
    return;
  }
  console.log('building dist/ (npm run build) for the production-like gateway …');
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm run build failed (${String(result.status)})`);
  built = true;
}

/** Reads VmRSS (KiB) of a process from /proc. */
export function readRssKb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match?.[1] !== undefined ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export async function startGatewayProcess(options: GatewayOptions = {}): Promise<Gateway> {
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-bench-gw-'));
  const production = options.open !== true;
  if (production) {
    if (options.root === undefined) ensureBuilt();
    writeFileSync(join(directory, 'switchboard.yaml'), BENCH_CONFIG);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${join(directory, 'bench.db')}`,
    SWITCHBOARD_LOCAL_DELAY_MS: '0',
    ...(production
      ? { SWITCHBOARD_ADMIN_KEY: BENCH_ADMIN_KEY, SWITCHBOARD_CONFIG: join(directory, 'switchboard.yaml'), SWITCHBOARD_BENCH_KEY: BENCH_KEY_SECRET }
      : { LOG_LEVEL: 'silent' }),
    ...(options.upstream ? { OPENAI_API_KEY: options.upstream.key, OPENAI_BASE_URL: options.upstream.url } : {}),
    ...options.env,
  };
  const args: string[] = production ? [] : ['--import', 'tsx'];
  if (options.cpuProfDir !== undefined) args.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  args.push(production ? 'dist/index.js' : 'src/index.ts');
  // At the default level the gateway logs a line per request: stdout goes to /dev/null, not to an unread pipe.
  const child = launch(process.execPath, args, env, cpuLayout().server, { stdout: production ? 'ignore' : 'pipe', ...(options.root !== undefined ? { cwd: options.root } : {}) });
  // Node itself runs under taskset when pinned; the pid is taskset's until exec, which keeps the same pid.
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(`${url}/healthz`, child);
  } catch (error) {
    await child.stop();
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const authorization = production ? `Bearer ${BENCH_KEY_SECRET}` : '';
  return {
    ...child,
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    authorization,
    headers: production ? { authorization } : {},
    rssKb: () => readRssKb(child.pid),
    async stop() {
      await child.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Conditions that go with every set of figures. */
export function conditions(): Record<string, unknown> {
  const layout = cpuLayout();
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    pinning: layout.server === null ? 'none (taskset missing or a single core)' : `gateway/peer on CPU ${layout.server}; load generator and fake upstream on CPU ${layout.others}`,
    upstream: 'zero-latency fake OpenAI (test/fakes/openai.ts) in its own process on loopback',
  };
}

/** CPU time (user + system) of a process in milliseconds, from /proc/<pid>/stat; null when unreadable. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    // Linux reports clock ticks; USER_HZ is 100 on every mainstream kernel.
    return ((utime + stime) * 1000) / 100;
  } catch {
    return null;
  }
}
