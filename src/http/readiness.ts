import type { ServerResponse } from 'node:http';

/**
 * One thing the gateway needs before it should be sent traffic. `check` returns a reason when it is not ready and
 * undefined when it is; a throw counts as not ready with the thrown message. Redis, when it comes, is one more entry.
 */
export interface ReadinessCheck {
  name: string;
  check(): string | undefined | Promise<string | undefined>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; reason?: string }>;
}

/** How long one check may take before it counts as failed: a probe must answer even when a dependency hangs. */
const CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(() => check.check()),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check (all of them, so the body names each failing one). */
export async function readiness(checks: readonly ReadinessCheck[]): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(async (check) => [check.name, await runCheck(check)] as const));
  const report: ReadinessReport = { ready: true, checks: {} };
  for (const [name, reason] of results) {
    report.checks[name] = reason === undefined ? { ok: true } : { ok: false, reason };
    if (reason !== undefined) report.ready = false;
  }
  return report;
}

/** GET /readyz: 200 when every check passes, 503 naming the failing ones otherwise. Never cached by a proxy. */
export async function serveReadiness(res: ServerResponse, checks: readonly ReadinessCheck[]): Promise<void> {
  const report = await readiness(checks);
  const failing = Object.entries(report.checks)
    .filter(([, result]) => !result.ok)
    .map(([name]) => name);
  const body = JSON.stringify(report.ready ? { status: 'ready', checks: report.checks } : { status: 'unready', failing, checks: report.checks });
  if (res.destroyed) return;
  res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** The checks every gateway has: the database answers, its migrations are applied, it is not shutting down. */
export function coreReadinessChecks(deps: {
  /** Throws (or rejects) when the database cannot answer: SQLite's file, or a round trip to PostgreSQL. */
  ping: () => void | Promise<void>;
  pendingMigrations: () => string[] | Promise<string[]>;
  isDraining: () => boolean;
}): ReadinessCheck[] {
  return [
    {
      name: 'database',
      check: async () => {
        await deps.ping();
        return undefined;
      },
    },
    {
      name: 'migrations',
      check: async () => {
        const pending = await deps.pendingMigrations();
        return pending.length === 0 ? undefined : `not applied: ${pending.join(', ')}`;
      },
    },
    { name: 'draining', check: () => (deps.isDraining() ? 'shutting down' : undefined) },
  ];
}
