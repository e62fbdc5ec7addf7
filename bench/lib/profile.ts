/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and lists the hot spots: self time by function, and total
 * (inclusive) time by source file, so the expensive layers of a request stand out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './processes.js';
import { fmt, printTable, round } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  ms: number;
  percent: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.startsWith('file://') ? relative(ROOT, url.slice('file://'.length)) : url;
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

function fileOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return `(${functionName || 'native'})`;
  const path = url.startsWith('file://') ? relative(ROOT, url.slice('file://'.length)) : url;
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + 'node_modules/'.length).split('/');
    return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '')}`;
  }
  return path;
}

/** `lastMs`: count only the samples of the profile's final `lastMs` (the load, not the start-up). */
export function hotSpots(file: string, top = 15, lastMs?: number): { selfByFunction: HotSpot[]; totalByFile: HotSpot[]; sampledMs: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const fromUs = lastMs === undefined ? Number.NEGATIVE_INFINITY : profile.endTime - lastMs * 1000;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfMs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at >= fromUs) selfMs.set(id, (selfMs.get(id) ?? 0) + delta / 1000);
  });
  let sampledMs = 0;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
      if (name === '(garbage collector)') byFunction.set('(garbage collector)', (byFunction.get('(garbage collector)') ?? 0) + ms);
      if (name !== '(idle)') sampledMs += ms;
      continue;
    }
    sampledMs += ms;
    byFunction.set(label(node), (byFunction.get(label(node)) ?? 0) + ms);
    // Inclusive time per file: count each file once per sample stack.
    const files = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const frame = byId.get(current);
      if (frame && frame.callFrame.url) files.add(fileOf(frame));
    }
    for (const path of files) byFile.set(path, (byFile.get(path) ?? 0) + ms);
  }
  const rank = (map: Map<string, number>): HotSpot[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: round(ms, 1), percent: round((ms / Math.max(1, sampledMs)) * 100, 1) }));
  return { selfByFunction: rank(byFunction), totalByFile: rank(byFile), sampledMs: round(sampledMs, 1) };
}

/**
 * The newest main-thread .cpuprofile in a directory. Files are named CPU.<date>.<time>.<pid>.<thread>.<seq>; with
 * `--import tsx` the module loader runs in a worker thread (thread 1) that writes its own profile, which is not the one.
 */
export function newestProfile(directory: string): string | null {
  const files = readdirSync(directory)
    .filter((file) => /\.0\.\d+\.cpuprofile$/.test(file))
    .sort();
  const last = files[files.length - 1];
  return last === undefined ? null : join(directory, last);
}

export function printHotSpots(spots: ReturnType<typeof hotSpots>): void {
  console.log(`\nCPU profile: ${fmt(spots.sampledMs, 0)} ms busy. Self time by function:`);
  printTable(['function', 'ms', '%'], spots.selfByFunction.map((spot) => [spot.name, fmt(spot.ms, 1), fmt(spot.percent, 1)]));
  console.log('\nInclusive time by file / package:');
  printTable(['file', 'ms', '%'], spots.totalByFile.map((spot) => [spot.name, fmt(spot.ms, 1), fmt(spot.percent, 1)]));
}

/** Layers of a request, matched against a sample's whole stack in this order (the first that matches takes it). */
const LAYERS: Array<[string, RegExp]> = [
  ['key authentication (SQL lookup + hash per request)', /findApiKeyByHash|auth\/viewer|db\/api-keys/],
  ['catalog + route resolution (SQL per request)', /db\/catalog\.|routing\/resolve/],
  ['ledger (recorder, Drizzle mapping, SQLite commit)', /usage\/recorder|better-sqlite3|db\/generations/],
  ['tokenizer (prompt estimate, exact counts)', /gpt-tokenizer|providers\/tokenizer/],
  ['logging', /node_modules\/pino|logger\.|access-log|request-log|sonic-boom/],
  ['REST request validation', /parseChatCompletionRequest/],
  ['GraphQL (Yoga, envelop, graphql, compiled execution, whatwg-node)', /graphql-yoga|@envelop|node_modules\/graphql\/|graphql-jit|@whatwg-node|http\/graphql|compiled-execution|@pothos/],
  ['admission, limits, budget', /auth\/admission|auth\/budget|rate-limiter/],
  ['upstream call (undici, adapter, response parsing)', /node_modules\/undici|\/providers\//],
  ['metrics', /prom-client|usage\/metrics/],
];

/** Busy time by layer of a request, in percent of the busy samples of the profile's final `lastMs`. */
export function layers(file: string, lastMs?: number): Array<{ layer: string; percent: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const fromUs = lastMs === undefined ? Number.NEGATIVE_INFINITY : profile.endTime - lastMs * 1000;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at >= fromUs) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const byLayer = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busy += us;
    let layer = node.callFrame.functionName === '(garbage collector)' ? 'garbage collector' : undefined;
    if (layer === undefined) {
      const frames: string[] = [];
      for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
        const frame = byId.get(current)?.callFrame;
        if (frame) frames.push(`${frame.functionName} ${frame.url}`);
      }
      layer = LAYERS.find(([, pattern]) => frames.some((frame) => pattern.test(frame)))?.[0];
    }
    layer ??= 'HTTP, routing, the completion service and the rest';
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + us);
  }
  return [...byLayer.entries()].sort((a, b) => b[1] - a[1]).map(([layer, us]) => ({ layer, percent: round((us / Math.max(1, busy)) * 100, 1) }));
}

export function printLayers(rows: ReturnType<typeof layers>): void {
  console.log('\nBusy time by layer:');
  printTable(['layer', '%'], rows.map((row) => [row.layer, fmt(row.percent, 1)]));
}
