import type { Clock } from '../clock.js';
import { asGatewayError } from '../errors.js';
import { ProviderError } from '../providers/errors.js';
import type { AdapterRegistry } from '../providers/registry.js';

/** How a provider check ended; each asks for a different fix. */
export type ProviderCheckStatus = 'ok' | 'authFailed' | 'timeout' | 'unreachable' | 'error' | 'notConfigured' | 'unsupported';

export interface ProviderCheck {
  providerId: string;
  status: ProviderCheckStatus;
  /** An HTTP answer came back (even a refusal); false for timeouts, refused connections and DNS failures. */
  reachable: boolean;
  /** Null when the check never got as far as an answer about the key. */
  authenticated: boolean | null;
  latencyMs: number | null;
  /** The provider's model ids, as it lists them. */
  models: string[];
  error: string | null;
  errorCode: string | null;
  checkedAt: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

const NOT_REACHED = new Set(['network', 'timeout']);
const AUTH = new Set(['authentication', 'permission']);

/**
 * A tiny live call (the provider's model listing): reachability, whether the key is taken, latency, and the models it
 * lists. The call is abandoned at `timeoutMs`, which is reported as a timeout rather than whatever the aborted
 * request happens to throw.
 */
export async function checkProvider(deps: { registry: AdapterRegistry; clock: Clock }, providerId: string, timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Promise<ProviderCheck> {
  const checkedAt = deps.clock.now();
  const base = { providerId, models: [] as string[], checkedAt };
  const adapter = deps.registry.get(providerId);
  if (!adapter) return { ...base, status: 'notConfigured', reachable: false, authenticated: null, latencyMs: null, error: 'The provider is not enabled on this gateway (no credentials configured)', errorCode: null };
  if (!adapter.listModels) return { ...base, status: 'unsupported', reachable: false, authenticated: null, latencyMs: null, error: 'This provider cannot list its models, so it cannot be checked without a paid call', errorCode: null };

  const controller = new AbortController();
  let timedOut = false;
  const timer = deps.clock.setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`No answer within ${timeoutMs} ms`));
  }, timeoutMs);
  const started = deps.clock.now();
  try {
    const listed = await adapter.listModels({ signal: controller.signal });
    return { ...base, status: 'ok', reachable: true, authenticated: true, latencyMs: deps.clock.now() - started, models: listed.map((model) => model.id), error: null, errorCode: null };
  } catch (thrown) {
    const latencyMs = deps.clock.now() - started;
    if (timedOut) return { ...base, status: 'timeout', reachable: false, authenticated: null, latencyMs, error: `No answer within ${timeoutMs} ms`, errorCode: 'TIMEOUT' };
    const error = asGatewayError(thrown);
    if (thrown instanceof ProviderError) {
      if (AUTH.has(thrown.kind)) return { ...base, status: 'authFailed', reachable: true, authenticated: false, latencyMs, error: error.message, errorCode: error.code };
      if (NOT_REACHED.has(thrown.kind)) return { ...base, status: thrown.kind === 'timeout' ? 'timeout' : 'unreachable', reachable: false, authenticated: null, latencyMs, error: error.message, errorCode: error.code };
      return { ...base, status: 'error', reachable: thrown.status !== undefined, authenticated: null, latencyMs, error: error.message, errorCode: error.code };
    }
    return { ...base, status: 'unreachable', reachable: false, authenticated: null, latencyMs, error: error.message, errorCode: error.code };
  } finally {
    timer.clear();
  }
}
