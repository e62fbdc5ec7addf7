import { useEffect, useState } from 'preact/hooks';
import { gql, subscribe, type ApiError } from '../api.js';
import { count, ms, time, usd } from '../format.js';
import { Badge, ErrorNote, statusTone } from '../ui.js';

export interface GenerationSummary {
  id: string;
  status: string;
  requestedModel: string;
  model: { id: string } | null;
  provider: { id: string } | null;
  latencyMs: number | null;
  streamed: boolean;
  createdAt: string;
  finishedAt: string | null;
  errorCode: string | null;
  usage: { totalTokens: number; costUsd: number | null };
}

const FIELDS = 'id status requestedModel model { id } provider { id } latencyMs streamed createdAt finishedAt errorCode usage { totalTokens costUsd }';
const RECENT = `query DashboardRecent { generations(first: 25) { edges { node { ${FIELDS} } } } }`;
const EVENTS = `subscription DashboardLive { usageEvents { ${FIELDS} } }`;
const KEEP = 200;

/** Finished generations as they are recorded, newest first: the last 25 from the ledger, then each one over graphql-ws. */
export function Live() {
  const [rows, setRows] = useState<GenerationSummary[]>([]);
  const [state, setState] = useState<'connecting' | 'live' | 'error'>('connecting');
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    const add = (incoming: GenerationSummary[]): void =>
      setRows((current) => {
        const seen = new Set(incoming.map((row) => row.id));
        return [...incoming, ...current.filter((row) => !seen.has(row.id))].slice(0, KEEP);
      });
    const unsubscribe = subscribe<{ usageEvents: GenerationSummary }>(EVENTS, {
      next: (data) => live && add([data.usageEvents]),
      error: (caught: ApiError) => {
        if (!live) return;
        setState('error');
        setError(caught);
      },
      connected: () => live && setState('live'),
    });
    gql<{ generations: { edges: Array<{ node: GenerationSummary }> } }>(RECENT)
      .then((data) =>
        setRows((current) => {
          const seen = new Set(current.map((row) => row.id));
          return [...current, ...data.generations.edges.map((edge) => edge.node).filter((row) => !seen.has(row.id))].slice(0, KEEP);
        }),
      )
      .catch((caught: unknown) => live && setError(caught));
    return () => {
      live = false;
      unsubscribe();
    };
  }, []);

  return (
    <section>
      <header class="page-head">
        <h1>Live</h1>
        <span class={`live-state live-${state}`} data-testid="live-state" data-state={state}>
          {state === 'live' ? '● live' : state === 'connecting' ? '○ connecting…' : '× disconnected'}
        </span>
      </header>
      <ErrorNote error={error} />
      <div class="table-scroll">
        <table class="live-table" data-testid="live-table">
          <thead>
            <tr>
              <th>Finished</th>
              <th>Status</th>
              <th>Model</th>
              <th>Provider</th>
              <th class="num">Latency</th>
              <th class="num">Tokens</th>
              <th class="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={7} class="empty">
                  Waiting for the first generation…
                </td>
              </tr>
            ) : (
              rows.map((row) => (
                <tr key={row.id} data-generation={row.id}>
                  <td data-label="Finished">
                    <a href={`#/generation/${encodeURIComponent(row.id)}`}>{time(row.finishedAt ?? row.createdAt)}</a>
                  </td>
                  <td data-label="Status">
                    <Badge tone={statusTone(row.status)}>{row.errorCode ? `${row.status} · ${row.errorCode}` : row.status}</Badge>
                  </td>
                  <td data-label="Model">{row.model?.id ?? row.requestedModel}</td>
                  <td data-label="Provider">{row.provider?.id ?? '—'}</td>
                  <td data-label="Latency" class="num">
                    {ms(row.latencyMs)}
                  </td>
                  <td data-label="Tokens" class="num">
                    {count(row.usage.totalTokens)}
                  </td>
                  <td data-label="Cost" class="num">
                    {usd(row.usage.costUsd)}
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
