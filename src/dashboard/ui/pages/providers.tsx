import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.js';
import { TimeChart } from '../chart.js';
import { count, ms, percent, time } from '../format.js';
import { Badge, ErrorNote, statusTone, useRefresh } from '../ui.js';

interface EndpointHealth {
  providerModelId: string;
  state: string;
  consecutiveFailures: number;
  retryAt: string | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  errorRate: number | null;
  requests: number;
}
interface HistoryBucket {
  start: string;
  requests: number;
  failures: number;
  uptime: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}
interface ProviderRow {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  health: {
    state: string;
    latencyP50Ms: number | null;
    latencyP95Ms: number | null;
    errorRate: number | null;
    requests: number;
    failures: number;
    lastError: string | null;
    lastErrorCode: string | null;
    lastErrorAt: string | null;
    openEndpoints: number;
    endpoints: EndpointHealth[];
  };
  history: HistoryBucket[];
}
interface CheckResult {
  status: string;
  reachable: boolean;
  authenticated: boolean | null;
  latencyMs: number | null;
  models: string[];
  error: string | null;
}

const PROVIDERS = `query DashboardProviders {
  providers {
    id name kind enabled
    health { state latencyP50Ms latencyP95Ms errorRate requests failures lastError lastErrorCode lastErrorAt openEndpoints
      endpoints { providerModelId state consecutiveFailures retryAt latencyP50Ms latencyP95Ms errorRate requests } }
    history(hours: 24, buckets: 24) { start requests failures uptime latencyP50Ms latencyP95Ms }
  }
}`;
const CHECK = `mutation DashboardCheckProvider($id: ID!) { checkProvider(id: $id) { status reachable authenticated latencyMs models error } }`;

export function Providers() {
  const [providers, setProviders] = useState<ProviderRow[] | null>(null);
  const [showAll, setShowAll] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const tick = useRefresh(5_000);

  useEffect(() => {
    let live = true;
    gql<{ providers: ProviderRow[] }>(PROVIDERS)
      .then((data) => live && (setProviders(data.providers), setError(null)))
      .catch((caught: unknown) => live && setError(caught));
    return () => {
      live = false;
    };
  }, [tick]);

  const shown = (providers ?? []).filter((provider) => showAll || provider.enabled || provider.health.requests > 0);
  return (
    <section>
      <header class="page-head">
        <h1>Providers</h1>
        <label class="toggle">
          <input type="checkbox" checked={showAll} onChange={(event) => setShowAll((event.target as HTMLInputElement).checked)} /> Show providers that are not enabled
        </label>
      </header>
      <ErrorNote error={error} />
      <div class="provider-grid">
        {shown.map((provider) => (
          <ProviderCard key={provider.id} provider={provider} />
        ))}
      </div>
    </section>
  );
}

function ProviderCard({ provider }: { provider: ProviderRow }) {
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const health = provider.health;
  const runCheck = (): void => {
    setChecking(true);
    setError(null);
    gql<{ checkProvider: CheckResult }>(CHECK, { id: provider.id })
      .then((data) => setCheck(data.checkProvider))
      .catch((caught: unknown) => setError(caught))
      .finally(() => setChecking(false));
  };
  // Every hour of the last day has its place on the axis; hours without requests are gaps.
  const hour = 3_600_000;
  const last = Math.floor(Date.now() / hour) * hour;
  const x = Array.from({ length: 24 }, (_, index) => (last - (23 - index) * hour) / 1000);
  const byStart = new Map(provider.history.map((bucket) => [Date.parse(bucket.start) / 1000, bucket]));
  const uptime = x.map((at) => {
    const bucket = byStart.get(at);
    return bucket ? bucket.uptime * 100 : null;
  });
  return (
    <article class="card provider" data-testid={`provider-${provider.id}`} data-state={health.state}>
      <header class="card-head">
        <h2>
          {provider.name} <small>{provider.id}</small>
        </h2>
        <span data-testid={`breaker-${provider.id}`}>
          <Badge tone={statusTone(health.state)}>{health.state}</Badge>
        </span>
      </header>
      <dl class="stats">
        <div>
          <dt>p50 / p95</dt>
          <dd>
            {ms(health.latencyP50Ms)} / {ms(health.latencyP95Ms)}
          </dd>
        </div>
        <div>
          <dt>Error rate</dt>
          <dd>{percent(health.errorRate)}</dd>
        </div>
        <div>
          <dt>Attempts (5 min)</dt>
          <dd>{count(health.requests)}</dd>
        </div>
        <div>
          <dt>Open circuits</dt>
          <dd>{count(health.openEndpoints)}</dd>
        </div>
      </dl>
      {health.lastError && (
        <p class="last-error">
          <Badge tone="bad">{health.lastErrorCode ?? 'ERROR'}</Badge> {time(health.lastErrorAt)} — {health.lastError}
        </p>
      )}
      {health.endpoints.filter((endpoint) => endpoint.state !== 'CLOSED' || endpoint.requests > 0).length > 0 && (
        <ul class="endpoints">
          {health.endpoints.map((endpoint) => (
            <li key={endpoint.providerModelId}>
              <Badge tone={statusTone(endpoint.state)}>{endpoint.state}</Badge> {endpoint.providerModelId}
              {endpoint.retryAt ? ` · probe at ${time(endpoint.retryAt)}` : ''} · {percent(endpoint.errorRate)} errors
            </li>
          ))}
        </ul>
      )}
      {provider.history.length > 0 && (
        <TimeChart
          title="Uptime, last 24 h (ledger)"
          unit="%"
          height={120}
          x={x}
          series={[{ label: 'Uptime', values: uptime, color: '#10b981' }]}
        />
      )}
      <div class="actions">
        <button type="button" onClick={runCheck} disabled={checking || !provider.enabled} data-testid={`check-${provider.id}`}>
          {checking ? 'Checking…' : 'Check now'}
        </button>
        {check && (
          <span class="check-result" data-testid={`check-result-${provider.id}`}>
            <Badge tone={statusTone(check.status)}>{check.status}</Badge> {ms(check.latencyMs)}
            {check.models.length > 0 ? ` · ${check.models.length} models listed` : ''}
            {check.error ? ` · ${check.error}` : ''}
          </span>
        )}
      </div>
      <ErrorNote error={error} />
    </article>
  );
}
