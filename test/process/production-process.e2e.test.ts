import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * End to end, as an operator runs it: the Dockerfile's own steps in a clean clone of the committed tree (docker
 * itself is not available here), then the compiled server started with the Dockerfile's CMD and stopped with the
 * signals a container runtime and a terminal send; and `npm start` exactly as package.json spells it.
 *
 * Dockerfile RUN lines are mapped to what can run here: `npm ci` links this checkout's installed node_modules
 * (a real install would need the network for better-sqlite3's binary), `npm prune --omit=dev` gives the runtime
 * stage a node_modules holding only the production dependencies (`npm ls --omit=dev`), so the compiled server
 * failing to find a devDependency fails here as it would in the image. Any other RUN line fails the test, so the
 * Dockerfile cannot drift from what this test checks.
 */

const repository = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN_KEY = 'sk-process-test-admin-key';

interface Dockerfile {
  builder: { run: string[]; copies: Array<{ from: string; to: string }> };
  runtime: { env: Record<string, string>; copies: Array<{ from: string; to: string }>; cmd: string[]; healthcheck: string[]; user?: string; expose?: string };
}

/** Reads the stages, RUN commands, COPY lines, ENV, HEALTHCHECK and CMD of a two-stage Dockerfile. */
function parseDockerfile(text: string): Dockerfile {
  const lines = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Array<{ name: string; lines: string[] }> = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)$/i.exec(line);
    if (from?.[1]) stages.push({ name: from[1], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const stage = (name: string): string[] => {
    const found = stages.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`Dockerfile has no stage '${name}'`);
    return found.lines;
  };
  const argument = (line: string, instruction: string): string | undefined =>
    line.toUpperCase().startsWith(`${instruction} `) ? line.slice(instruction.length + 1).trim() : undefined;
  const copies = (stageLines: string[]) =>
    stageLines.flatMap((line) => {
      const copy = argument(line, 'COPY');
      if (copy === undefined) return [];
      const paths = copy.split(/\s+/).filter((part) => !part.startsWith('--'));
      const to = paths.pop() ?? '';
      return paths.map((from) => ({ from, to }));
    });
  const builder = stage('builder');
  const runtime = stage('runtime');
  const env: Record<string, string> = {};
  for (const line of runtime) {
    const value = argument(line, 'ENV');
    if (value === undefined) continue;
    for (const pair of value.split(/\s+/)) {
      const [key, ...rest] = pair.split('=');
      if (key) env[key] = rest.join('=');
    }
  }
  const json = (instruction: string): string[] => {
    const line = runtime.map((candidate) => argument(candidate, instruction)).find((value) => value !== undefined);
    if (line === undefined) throw new Error(`the runtime stage has no ${instruction}`);
    const exec = instruction === 'HEALTHCHECK' ? line.slice(line.indexOf('CMD ') + 4) : line;
    return JSON.parse(exec) as string[];
  };
  return {
    builder: { run: builder.flatMap((line) => argument(line, 'RUN') ?? []), copies: copies(builder) },
    runtime: {
      env,
      copies: copies(runtime),
      cmd: json('CMD'),
      healthcheck: json('HEALTHCHECK'),
      user: runtime.map((line) => argument(line, 'USER')).findLast((value) => value !== undefined),
      expose: runtime.map((line) => argument(line, 'EXPOSE')).find((value) => value !== undefined),
    },
  };
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A node_modules holding links to only the production dependencies of `directory` (the `npm prune --omit=dev`
 * result), read from the lock file's own `dev` marks: `npm ls --omit=dev` was tried first, but through a linked
 * node_modules made by `npm ci` it reported every dev package as extraneous and listed it, so the lock file is the
 * one answer that does not depend on how the install was made.
 */
function productionModules(directory: string, into: string): void {
  const installed = join(directory, 'node_modules');
  const lock = JSON.parse(readFileSync(join(directory, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  mkdirSync(into, { recursive: true });
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || entry.dev === true || entry.devOptional === true) continue;
    // Top-level packages only (node_modules/x or node_modules/@scope/x): nested ones come with their parent.
    const inside = key.slice('node_modules/'.length);
    const parts = inside.split('/');
    if (parts.includes('node_modules')) continue;
    if (parts.length !== (parts[0]?.startsWith('@') ? 2 : 1)) continue;
    const path = join(installed, ...parts);
    // An optional dependency for another platform is in the lock file but not installed.
    if (!existsSync(path)) continue;
    mkdirSync(join(into, ...parts.slice(0, -1)), { recursive: true });
    if (!existsSync(join(into, ...parts))) symlinkSync(path, join(into, ...parts));
  }
}

interface Gateway {
  child: ChildProcess;
  url: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Spawns a process and resolves `url` from the gateway's "listening" log line. */
function launch(command: string, args: string[], cwd: string, env: Record<string, string>): Gateway {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before listening:\n${output}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  url.catch(() => undefined);
  return { child, url, exited, output: () => output };
}

/** The Dockerfile runs the gateway on 0.0.0.0; the test talks to it on loopback. */
function loopback(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:');
}

async function graphql(url: string, query: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as Record<string, unknown>;
}

interface StreamedCompletion {
  /** Resolves with the generation id once the first event (CompletionStarted) has arrived. */
  started: Promise<string>;
  /** Resolves with every event's __typename once the stream ends. */
  done: Promise<string[]>;
}

/** A completionStream subscription over SSE. */
function streamCompletion(url: string, content: string): StreamedCompletion {
  let onStarted: (id: string) => void = () => undefined;
  const started = new Promise<string>((resolve) => {
    onStarted = resolve;
  });
  const done = (async () => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({
        query: `subscription { completionStream(input: { model: "local/echo", messages: [{ role: USER, content: ${JSON.stringify(content)} }] }) {
          __typename ... on CompletionStarted { id } } }`,
      }),
    });
    if (!response.body) throw new Error('no body');
    const events: string[] = [];
    let buffer = '';
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffer += decoder.decode(read.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((line) => line.startsWith('data:'));
        if (!data || !block.startsWith('event: next')) continue;
        const event = (JSON.parse(data.slice(5)) as { data?: { completionStream?: { __typename: string; id?: string } } }).data?.completionStream;
        if (!event) continue;
        events.push(event.__typename);
        if (event.id) onStarted(event.id);
      }
    }
    return events;
  })();
  return { started, done };
}

function generationStatus(databasePath: string, id: string): unknown {
  const db = new Database(databasePath, { readonly: true });
  try {
    return (db.prepare('SELECT status FROM generations WHERE id = ?').get(id) as { status?: string } | undefined)?.status;
  } finally {
    db.close();
  }
}

describe('the production process, end to end', () => {
  let workspace: string;
  let builder: string;
  let runtime: string;
  let dockerfile: Dockerfile;

  beforeAll(() => {
    workspace = mkdtempSync(join(tmpdir(), 'switchboard-process-'));
    builder = join(workspace, 'builder');
    runtime = join(workspace, 'runtime');
    // A clean clone of the committed tree: nothing untracked, built or installed in this checkout leaks in.
    const head = run('git', ['rev-parse', 'HEAD'], repository).trim();
    run('git', ['clone', '--quiet', '--no-checkout', repository, builder], workspace);
    run('git', ['checkout', '--quiet', head], builder);
    dockerfile = parseDockerfile(readFileSync(join(builder, 'Dockerfile'), 'utf8'));

    const pruned = join(workspace, 'production_modules');
    let prunedFor: string | undefined;
    for (const command of dockerfile.builder.run) {
      if (command.startsWith('apt-get ')) continue; // the native toolchain: a fallback for platforms without prebuilt binaries
      if (command === 'npm ci') symlinkSync(join(repository, 'node_modules'), join(builder, 'node_modules'));
      else if (command === 'npm run build') run('npm', ['run', 'build'], builder);
      else if (command === 'npm prune --omit=dev') {
        productionModules(builder, pruned);
        prunedFor = pruned;
      } else throw new Error(`Dockerfile RUN '${command}' has no equivalent in this test: add one`);
    }
    expect(dockerfile.builder.run).toEqual(expect.arrayContaining(['npm ci', 'npm run build', 'npm prune --omit=dev']));
    expect(prunedFor, 'the builder prunes dev dependencies').toBeDefined();

    // The runtime stage: only what it copies from the builder.
    mkdirSync(runtime);
    for (const { from, to } of dockerfile.runtime.copies) {
      expect(from.startsWith('/app/'), `runtime COPY ${from} comes from the builder's /app`).toBe(true);
      const target = join(runtime, relative('/app', to.startsWith('/') ? to : join('/app', to)));
      if (from === '/app/node_modules') symlinkSync(pruned, target);
      else cpSync(join(builder, relative('/app', from)), target, { recursive: true });
    }
  }, 180_000);

  afterAll(() => {
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('the runtime stage holds compiled JavaScript and no TypeScript sources or compiler', () => {
    expect(readdirSync(runtime).sort()).toEqual(['dist', 'migrations', 'node_modules', 'package.json']);
    expect(existsSync(join(runtime, 'dist', 'db', 'seed', 'catalog.json'))).toBe(true);
    expect(existsSync(join(runtime, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(runtime, 'node_modules', 'vitest'))).toBe(false);
    expect(dockerfile.runtime.cmd).toEqual(['node', 'dist/index.js']);
    expect(dockerfile.runtime.user, 'the image runs as an unprivileged user').toBe('node');
    expect(dockerfile.runtime.expose).toBe(dockerfile.runtime.env['PORT']);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`the Dockerfile's CMD serves, passes its HEALTHCHECK, and on ${signal} drains an in-flight stream, records it and exits 0`, async () => {
      const databasePath = join(workspace, `${signal}.db`);
      const [command = 'node', ...args] = dockerfile.runtime.cmd;
      const gateway = launch(command, args, runtime, {
        ...dockerfile.runtime.env,
        PORT: '0',
        DATABASE_URL: `file:${databasePath}`,
        SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
        SWITCHBOARD_LOCAL_DELAY_MS: '120',
      });
      try {
        const url = loopback(await gateway.url);
        const health = await fetch(`${url}/healthz`);
        expect(health.status).toBe(200);

        // The HEALTHCHECK command, run as Docker would (it reads PORT from the environment).
        const [checkCommand = 'node', ...checkArgs] = dockerfile.runtime.healthcheck;
        expect(() =>
          execFileSync(checkCommand, checkArgs, { cwd: runtime, env: { ...process.env, PORT: new URL(url).port }, stdio: 'ignore' }),
        ).not.toThrow();

        const completion = await graphql(url, '{ __typename }');
        expect(completion).toEqual({ data: { __typename: 'Query' } });
        const answer = await graphql(url, 'mutation { createCompletion(input: { model: "local/echo", messages: [{ role: USER, content: "compiled hello" }] }) { message { content } } }');
        expect(answer).toEqual({ data: { createCompletion: { message: { content: 'compiled hello' } } } });

        const words = 'one two three four five six seven eight nine ten eleven twelve';
        const stream = streamCompletion(url, words);
        const id = await stream.started;
        gateway.child.kill(signal);

        const events = await stream.done;
        expect(events[0]).toBe('CompletionStarted');
        expect(events.at(-1)).toBe('CompletionDone');
        expect(events.filter((name) => name === 'CompletionDelta').length).toBeGreaterThanOrEqual(words.split(' ').length);
        expect(await gateway.exited).toEqual({ code: 0, signal: null });
        expect(generationStatus(databasePath, id)).toBe('SUCCEEDED');
        expect(gateway.output()).toContain('"msg":"stopped"');
      } finally {
        gateway.child.kill('SIGKILL');
      }
    }, 30_000);
  }

  it('npm start, as package.json spells it, serves, and on SIGTERM to npm stops the gateway with no orphan left', async () => {
    // A fresh clone has no dist/: `npm start` builds it first. That build is the `npm run build` the Dockerfile's
    // steps ran in this clone a moment ago, so the start itself skips it (--ignore-scripts skips only pre/post
    // scripts) rather than compiling twice.
    const scripts = (JSON.parse(readFileSync(join(builder, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['prestart']).toBe('npm run build');
    const gateway = launch('npm', ['start', '--ignore-scripts'], builder, {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${join(workspace, 'npm-start.db')}`,
      SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
    });
    let gatewayPid: number | undefined;
    try {
      const url = await gateway.url;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // GraphiQL's page module is imported lazily, on the first browser GET: it must resolve from dist/ too.
      const graphiql = await fetch(`${url}/graphql`, { headers: { accept: 'text/html', authorization: `Bearer ${ADMIN_KEY}` } });
      expect(graphiql.status).toBe(200);
      expect(graphiql.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await graphiql.text()).toContain('Switchboard');
      // The process that listens is npm's child (the script's shell replaced by node through `exec`).
      gatewayPid = childrenOf(gateway.child.pid ?? 0)[0];
      expect(gatewayPid).toBeDefined();
      expect(readFileSync(`/proc/${gatewayPid}/cmdline`, 'utf8').split('\0')).toContain('dist/index.js');

      // What `docker stop` does when npm is PID 1: SIGTERM to npm alone.
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toEqual({ code: 0, signal: null });
      expect(gateway.output()).toContain('"msg":"stopped"');
      expect(isRunning(gatewayPid ?? 0)).toBe(false);
    } finally {
      gateway.child.kill('SIGKILL');
      if (gatewayPid !== undefined && isRunning(gatewayPid)) process.kill(gatewayPid, 'SIGKILL');
    }
  }, 60_000);
});

/** The pids of a process's children, from /proc (every thread's list). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((thread) =>
    readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8')
      .split(' ')
      .filter((value) => value !== '')
      .map(Number),
  );
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
