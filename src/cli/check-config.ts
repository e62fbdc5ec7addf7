import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config.js';
import { configFilePath } from '../config/file.js';
import { ConfigError } from '../config/errors.js';

/**
 * `switchboard check-config [path]`: validates the config file together with the environment, exactly as start-up
 * would, without opening the database or listening. Exits 0 when the gateway would start, 1 otherwise.
 */
export interface CheckResult {
  ok: boolean;
  /** The file checked; undefined when none was given and ./switchboard.yaml does not exist. */
  path: string | undefined;
  errors: string[];
}

export function checkConfig(path?: string, env: NodeJS.ProcessEnv = process.env): CheckResult {
  const file = path ?? configFilePath(env);
  try {
    loadConfig(env, { configPath: file ?? null });
    return { ok: true, path: file, errors: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One problem a line, so each names its own file:line:column and field.
    const errors = error.message.split('\n').filter((line) => line !== '' && line !== 'Invalid config file:');
    return { ok: false, path: file, errors };
  }
}

/** Prints the result (one problem a line) and sets the exit code: 0 when the gateway would start, 1 otherwise. */
export function runCheckConfig(path?: string): void {
  const result = checkConfig(path);
  if (result.ok) console.log(result.path ? `${result.path}: ok` : 'no config file (set SWITCHBOARD_CONFIG or add ./switchboard.yaml); the environment is valid');
  else for (const line of result.errors) console.error(line);
  process.exitCode = result.ok ? 0 : 1;
}

// Run directly (npm run check-config); the bin's `switchboard check-config` calls runCheckConfig itself.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runCheckConfig(process.argv[2]);
