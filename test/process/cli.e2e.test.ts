import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** The `switchboard` bin as a user runs it (through tsx here; the build runs the same file compiled). */
const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function switchboard(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the switchboard bin', () => {
  it('check-config: exit 0 and "ok" for a valid file, exit 1 naming file, line and field for a broken one', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'providers:\n  - id: house\n    kind: OPENAI_COMPATIBLE\n    baseUrl: http://127.0.0.1:8000/v1\n    apiKey: ${HOUSE_KEY}\n');
    const ok = switchboard(['check-config', good], { HOUSE_KEY: 'house-secret-0123456789' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`${good}: ok`);
    // The same file without the variable it references is refused, at the line of the reference.
    const missing = switchboard(['check-config', good], { HOUSE_KEY: '' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`${good}:5:13 providers[0].apiKey`);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'providers:\n  - id: x\n    kind: NOPE\n');
    const refused = switchboard(['check-config', bad]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${bad}:3:11 providers[0].kind`);
  });

  it('prints usage for help, and usage with exit 2 for an unknown command', () => {
    const help = switchboard(['help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('check-config [file]');
    const unknown = switchboard(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });
});
