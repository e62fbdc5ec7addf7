import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.js';
import { count, ms, perMillion, usd } from '../format.js';
import { SortTable } from '../table.js';
import { Badge, ErrorNote } from '../ui.js';

interface ModelRow {
  id: string;
  name: string;
  vendor: string;
  contextLength: number | null;
  inputModalities: string[];
  supportedParameters: string[];
  pricing: { promptPerMillion: number | null; completionPerMillion: number | null };
  endpoints: Array<{ provider: { id: string; enabled: boolean } }>;
}
interface RouteEndpoint {
  position: number | null;
  skipReason: string | null;
  detail: string | null;
  providerId: string;
  providerModelId: string;
  requestedModel: string;
  strategy: string;
  expectedCostUsd: number | null;
  observedLatencyMs: number | null;
}
interface Plan {
  explainRoute: { fallbackModels: string[]; endpoints: RouteEndpoint[] };
  estimateCost: { promptTokens: number; promptTokensEstimated: boolean; tokenizer: string; completionTokensMax: number; candidates: Array<{ providerId: string; providerModelId: string; minCostUsd: number | null; maxCostUsd: number | null }> };
}

const SKIP_REASONS: Record<string, string> = {
  ALLOWLIST: 'key allowlist',
  CAPABILITY: 'capability',
  CONTEXT_LENGTH: 'context length',
  PROVIDER_PREFERENCE: 'provider preference',
  BREAKER_STATE: 'circuit open',
};

const MODELS = `query DashboardCatalog($filter: ModelFilter) {
  models(first: 100, filter: $filter) { edges { node {
    id name vendor contextLength inputModalities supportedParameters
    pricing { promptPerMillion completionPerMillion }
    endpoints { provider { id enabled } }
  } } }
}`;
const PLAN = `query DashboardPlan($input: CompletionInput!) {
  explainRoute(input: $input) { fallbackModels endpoints { position skipReason detail providerId providerModelId requestedModel strategy expectedCostUsd observedLatencyMs } }
  estimateCost(input: $input) { promptTokens promptTokensEstimated tokenizer completionTokensMax candidates { providerId providerModelId minCostUsd maxCostUsd } }
}`;

export function Catalog() {
  const [search, setSearch] = useState('');
  const [vendor, setVendor] = useState('');
  const [images, setImages] = useState(false);
  const [tools, setTools] = useState(false);
  const [servedOnly, setServedOnly] = useState(true);
  const [models, setModels] = useState<ModelRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [planning, setPlanning] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const filter: Record<string, unknown> = {};
    if (search.trim()) filter['search'] = search.trim();
    if (vendor.trim()) filter['vendor'] = vendor.trim();
    if (images) filter['inputModalities'] = ['IMAGE'];
    if (tools) filter['supportedParameters'] = ['tools'];
    const timer = setTimeout(() => {
      gql<{ models: { edges: Array<{ node: ModelRow }> } }>(MODELS, { filter })
        .then((data) => live && (setModels(data.models.edges.map((edge) => edge.node)), setError(null)))
        .catch((caught: unknown) => live && setError(caught));
    }, 200);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [search, vendor, images, tools]);

  const served = (row: ModelRow): string[] => row.endpoints.filter((endpoint) => endpoint.provider.enabled).map((endpoint) => endpoint.provider.id);
  const rows = (models ?? []).filter((row) => !servedOnly || served(row).length > 0);
  return (
    <section>
      <header class="page-head">
        <h1>Catalog</h1>
      </header>
      <div class="filters">
        <input type="search" placeholder="Search models" value={search} onInput={(event) => setSearch((event.target as HTMLInputElement).value)} aria-label="Search models" data-testid="catalog-search" />
        <input placeholder="Vendor" value={vendor} onInput={(event) => setVendor((event.target as HTMLInputElement).value)} aria-label="Vendor" />
        <label>
          <input type="checkbox" checked={images} onChange={(event) => setImages((event.target as HTMLInputElement).checked)} /> image input
        </label>
        <label>
          <input type="checkbox" checked={tools} onChange={(event) => setTools((event.target as HTMLInputElement).checked)} /> tools
        </label>
        <label>
          <input type="checkbox" checked={servedOnly} onChange={(event) => setServedOnly((event.target as HTMLInputElement).checked)} /> served here
        </label>
      </div>
      <ErrorNote error={error} />
      {planning && <PlanPanel model={planning} onClose={() => setPlanning(null)} />}
      <SortTable
        testId="catalog-table"
        rows={rows}
        rowKey={(row) => row.id}
        initialSort={{ key: 'id', descending: false }}
        empty="No model matches"
        columns={[
          { key: 'id', label: 'Model', value: (row) => row.id, render: (row) => <span title={row.name}>{row.id}</span> },
          { key: 'vendor', label: 'Vendor', value: (row) => row.vendor },
          { key: 'context', label: 'Context', numeric: true, value: (row) => row.contextLength, render: (row) => count(row.contextLength) },
          { key: 'prompt', label: 'Prompt', numeric: true, value: (row) => row.pricing.promptPerMillion, render: (row) => perMillion(row.pricing.promptPerMillion) },
          { key: 'completion', label: 'Completion', numeric: true, value: (row) => row.pricing.completionPerMillion, render: (row) => perMillion(row.pricing.completionPerMillion) },
          { key: 'providers', label: 'Served by', value: (row) => served(row).join(', '), render: (row) => served(row).join(', ') || <span class="muted">not served here</span> },
          {
            key: 'plan',
            label: 'Route',
            value: () => null,
            render: (row) => (
              <button type="button" onClick={() => setPlanning(row.id)} disabled={served(row).length === 0}>
                Plan
              </button>
            ),
          },
        ]}
      />
    </section>
  );
}

/** explainRoute and estimateCost for a prompt typed here: where it would go, why, and what it would cost. */
function PlanPanel({ model, onClose }: { model: string; onClose: () => void }) {
  const [prompt, setPrompt] = useState('Hello!');
  const [maxTokens, setMaxTokens] = useState('256');
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = (event: Event): void => {
    event.preventDefault();
    const input = { model, messages: [{ role: 'USER', content: prompt }], ...(Number(maxTokens) > 0 ? { maxTokens: Math.floor(Number(maxTokens)) } : {}) };
    gql<Plan>(PLAN, { input })
      .then((data) => (setPlan(data), setError(null)))
      .catch((caught: unknown) => setError(caught));
  };
  return (
    <div class="card plan" data-testid="plan-panel">
      <header class="card-head">
        <h2>Plan a request to {model}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      <form onSubmit={run} class="form-row">
        <label class="grow">
          Prompt <textarea rows={2} value={prompt} onInput={(event) => setPrompt((event.target as HTMLTextAreaElement).value)} />
        </label>
        <label>
          Max tokens <input type="number" min="1" value={maxTokens} onInput={(event) => setMaxTokens((event.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Explain and estimate</button>
      </form>
      <ErrorNote error={error} />
      {plan && (
        <>
          <p>
            {count(plan.estimateCost.promptTokens)} prompt tokens ({plan.estimateCost.promptTokensEstimated ? 'estimated' : `exact, ${plan.estimateCost.tokenizer}`}), up to {count(plan.estimateCost.completionTokensMax)} completion tokens
            {plan.explainRoute.fallbackModels.length > 0 ? `; fallbacks: ${plan.explainRoute.fallbackModels.join(', ')}` : ''}.
          </p>
          <div class="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>#</th>
                  <th>Endpoint</th>
                  <th>Decision</th>
                  <th class="num">Score: cost</th>
                  <th class="num">Score: latency</th>
                  <th class="num">Cost range</th>
                </tr>
              </thead>
              <tbody>
                {plan.explainRoute.endpoints.map((endpoint) => {
                  const cost = plan.estimateCost.candidates.find((candidate) => candidate.providerId === endpoint.providerId && candidate.providerModelId === endpoint.providerModelId);
                  return (
                    <tr key={`${endpoint.providerId}:${endpoint.providerModelId}`}>
                      <td>{endpoint.position ?? '—'}</td>
                      <td>
                        {endpoint.providerId} · {endpoint.providerModelId}
                      </td>
                      <td>{endpoint.skipReason ? <span title={endpoint.detail ?? ''}><Badge tone="warn">{`skipped: ${SKIP_REASONS[endpoint.skipReason] ?? endpoint.skipReason}`}</Badge></span> : <Badge tone="ok">{`kept (${endpoint.strategy})`}</Badge>}</td>
                      <td class="num">{usd(endpoint.expectedCostUsd)}</td>
                      <td class="num">{ms(endpoint.observedLatencyMs)}</td>
                      <td class="num">{cost ? `${usd(cost.minCostUsd)} – ${usd(cost.maxCostUsd)}` : '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
