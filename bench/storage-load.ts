/**
 * The same load on SQLite and on PostgreSQL: N chat completions (local/echo, no delay) through the REST facade of
 * one in-process gateway, C at a time. Prints CPU per request (this process: gateway and client together, the
 * same client on both sides) and wall time; PostgreSQL's own server CPU is not included.
 * Usage: npx tsx bench/storage-load.ts [requests] [concurrency]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import postgres from 'postgres';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const REQUESTS = Number(process.argv[2] ?? 2000);
const CONCURRENCY = Number(process.argv[3] ?? 20);

async function load(databaseUrl: string, label: string): Promise<void> {
  const app = buildApp(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, SWITCHBOARD_LOCAL_DELAY_MS: '0' }), { logger: pino({ level: 'silent' }) });
  const { url } = await app.start();
  const body = JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content: 'one two three four five' }] });
  const call = async () => {
    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  for (let index = 0; index < 100; index++) await call();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < REQUESTS) await call();
  }));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  console.log(`${label.padEnd(10)} ${((used.user + used.system) / REQUESTS).toFixed(0).padStart(5)} µs CPU/request  ${(wallMs / REQUESTS * 1000).toFixed(0).padStart(5)} µs wall/request  ${(REQUESTS / (wallMs / 1000)).toFixed(0)} req/s  (${REQUESTS} requests, ${CONCURRENCY} at a time)`);
  await app.stop();
}

const directory = mkdtempSync(join(tmpdir(), 'switchboard-storage-load-'));
const name = `sb_bench_${randomBytes(4).toString('hex')}`;
const admin = postgres('postgres://postgres@127.0.0.1:5432/postgres', { max: 1, onnotice: () => undefined });
await admin.unsafe(`create database ${name}`);
try {
  for (let round = 1; round <= 2; round++) {
    await load(`file:${join(directory, `load-${round}.db`)}`, 'sqlite');
    await load(`postgres://postgres@127.0.0.1:5432/${name}`, 'postgres');
  }
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
  rmSync(directory, { recursive: true, force: true });
}
