import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * The import rules of ../shared/STYLE.md ("Who may import whom"), written in .dependency-cruiser.cjs, checked over
 * src/ so a wrong arrow fails the suite; and checked over a fixture that breaks each rule once, so a rule that
 * silently stopped matching (a renamed folder, a bad regex) fails too.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const FIXTURE = join(ROOT, 'test/architecture/fixture');
/** The project's own binary; DEPCRUISE_BIN points elsewhere only to try the rules before it is installed. */
const DEPCRUISE = process.env['DEPCRUISE_BIN'] ?? join(ROOT, 'node_modules/.bin/depcruise');

const violationSchema = z.object({
  from: z.string(),
  to: z.string(),
  rule: z.object({ name: z.string(), severity: z.string() }),
  cycle: z.array(z.object({ name: z.string() })).optional(),
});
const reportSchema = z.object({
  summary: z.object({ error: z.number(), totalCruised: z.number(), violations: z.array(violationSchema) }),
});
type Violation = z.infer<typeof violationSchema>;

function cruise(cwd: string, extraArguments: string[] = []): z.infer<typeof reportSchema>['summary'] {
  const result = spawnSync(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'json', ...extraArguments], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.stdout.trim() === '') throw new Error(`depcruise printed nothing (exit ${result.status}): ${result.stderr}`);
  return reportSchema.parse(JSON.parse(result.stdout)).summary;
}

function describeViolation(violation: Violation): string {
  const path = violation.cycle ? [violation.from, ...violation.cycle.map((step) => step.name)].join(' → ') : `${violation.from} → ${violation.to}`;
  return `${violation.rule.name}: ${path}`;
}

describe('who may import whom', () => {
  it('src/ breaks no import rule', { timeout: 60_000 }, () => {
    expect(existsSync(DEPCRUISE), `${DEPCRUISE} is missing: npm install`).toBe(true);
    const summary = cruise(ROOT);
    const errors = summary.violations.filter((violation) => violation.rule.severity === 'error').map(describeViolation);
    expect(errors).toEqual([]);
    expect(summary.error).toBe(0);
    expect(summary.totalCruised).toBeGreaterThan(100);
  });

  it('catches each kind of wrong arrow in a tree built to break them', { timeout: 60_000 }, () => {
    const summary = cruise(FIXTURE);
    expect(summary.violations.map(describeViolation).sort()).toEqual([
      'completions-know-no-transport: src/completions/service.ts → src/http/origin.ts',
      'leaf-modules-import-nothing-of-ours: src/ids.ts → src/app.ts',
      'leaves-do-not-import-composition: src/catalog/providers.ts → src/services.ts',
      'no-circular: src/usage/first.ts → src/usage/second.ts → src/usage/first.ts',
      'only-index-imports-app: src/ids.ts → src/app.ts',
      'providers-are-leaves: src/providers/adapter.ts → src/schema/model-type.ts',
      'rest-does-not-import-schema: src/rest/chat.ts → src/schema/model-type.ts',
      'schema-does-not-import-rest: src/schema/chat-type.ts → src/rest/models.ts',
      'storage-knows-no-transport: src/db/catalog.ts → src/rest/models.ts',
      'telemetry-knows-no-transport: src/telemetry/spans.ts → src/http/origin.ts',
      'usage-serves-no-http: src/usage/first.ts → http',
    ]);
    expect(summary.error).toBe(11);
  });
});
