import { useEffect, useMemo, useState } from 'preact/hooks';
import { gql } from '../api.js';
import { TimeChart } from '../chart.js';
import { count, percent, usd } from '../format.js';
import { SortTable } from '../table.js';
import { ErrorNote, useRefresh } from '../ui.js';

type WindowName = 'hour' | 'day' | 'week';

/** Each window's span and bucket: the last hour by minute, the last day by hour, the last week by hour. */
const WINDOWS: Record<WindowName, { label: string; spanMs: number; bucketMs: number; dimension: 'MINUTE' | 'HOUR' }> = {
  hour: { label: 'Last hour', spanMs: 3_600_000, bucketMs: 60_000, dimension: 'MINUTE' },
  day: { label: 'Last day', spanMs: 86_400_000, bucketMs: 3_600_000, dimension: 'HOUR' },
  week: { label: 'Last week', spanMs: 7 * 86_400_000, bucketMs: 3_600_000, dimension: 'HOUR' },
};

interface Figures {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  unpricedRequests: number;
}
interface TimeBucket extends Figures {
  key: { minute: string | null; hour: string | null };
}
interface RankBucket extends Figures {
  key: { modelId: string | null; providerId: string | null; apiKeyId: string | null };
}
interface OverviewData {
  series: TimeBucket[];
  total: Figures[];
  byModel: RankBucket[];
  byProvider: RankBucket[];
  byKey: RankBucket[];
}

const FIGURES = 'requests errors promptTokens completionTokens costUsd unpricedRequests';
const RANK_FIELDS = `${FIGURES} key { modelId providerId apiKeyId }`;
const OVERVIEW = `query DashboardOverview($filter: UsageFilter!, $groupBy: [UsageDimension!]!) {
  series: usage(filter: $filter, groupBy: $groupBy) { ${FIGURES} key { minute hour } }
  total: usage(filter: $filter) { ${FIGURES} }
  byModel: usage(filter: $filter, groupBy: [MODEL]) { ${RANK_FIELDS} }
  byProvider: usage(filter: $filter, groupBy: [PROVIDER]) { ${RANK_FIELDS} }
  byKey: usage(filter: $filter, groupBy: [KEY]) { ${RANK_FIELDS} }
}`;

const EMPTY: Figures = { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, unpricedRequests: 0 };

export function Overview() {
  const [windowName, setWindowName] = useState<WindowName>('hour');
  const [data, setData] = useState<{ result: OverviewData; from: number; to: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const tick = useRefresh(15_000);

  useEffect(() => {
    const spec = WINDOWS[windowName];
    // The window ends at the end of the current bucket, so the newest bucket is whole and stays put.
    const to = (Math.floor(Date.now() / spec.bucketMs) + 1) * spec.bucketMs;
    const from = to - spec.spanMs;
    let live = true;
    gql<OverviewData>(OVERVIEW, { filter: { from: new Date(from).toISOString(), to: new Date(to).toISOString() }, groupBy: [spec.dimension] })
      .then((result) => live && (setData({ result, from, to }), setError(null)))
      .catch((caught: unknown) => live && setError(caught));
    return () => {
      live = false;
    };
  }, [windowName, tick]);

  const charts = useMemo(() => {
    if (!data) return null;
    const spec = WINDOWS[windowName];
    const x: number[] = [];
    const index = new Map<number, number>();
    for (let at = data.from; at < data.to; at += spec.bucketMs) {
      index.set(at, x.length);
      x.push(at / 1000);
    }
    const zeros = (): number[] => x.map(() => 0);
    const requests = zeros();
    const errors = zeros();
    const prompt = zeros();
    const completion = zeros();
    const spend = zeros();
    const errorRate: Array<number | null> = x.map(() => null);
    for (const bucket of data.result.series) {
      const start = Date.parse((spec.dimension === 'MINUTE' ? bucket.key.minute : bucket.key.hour) ?? '');
      const at = index.get(start);
      if (at === undefined) continue;
      requests[at] = bucket.requests;
      errors[at] = bucket.errors;
      prompt[at] = bucket.promptTokens;
      completion[at] = bucket.completionTokens;
      spend[at] = bucket.costUsd;
      errorRate[at] = bucket.requests === 0 ? null : (bucket.errors / bucket.requests) * 100;
    }
    return { x, requests, errors, prompt, completion, spend, errorRate };
  }, [data, windowName]);

  const total = data?.result.total[0] ?? EMPTY;
  return (
    <section>
      <header class="page-head">
        <h1>Overview</h1>
        <div class="segmented" role="group" aria-label="Time window">
          {(Object.keys(WINDOWS) as WindowName[]).map((name) => (
            <button type="button" key={name} aria-pressed={name === windowName} onClick={() => setWindowName(name)} data-testid={`window-${name}`}>
              {WINDOWS[name].label}
            </button>
          ))}
        </div>
      </header>
      <ErrorNote error={error} />
      <div class="figures" data-testid="figures" data-from={data ? new Date(data.from).toISOString() : undefined} data-to={data ? new Date(data.to).toISOString() : undefined}>
        <Figure label="Requests" value={count(total.requests)} testId="figure-requests" raw={total.requests} />
        <Figure label="Tokens" value={count(total.promptTokens + total.completionTokens)} testId="figure-tokens" raw={total.promptTokens + total.completionTokens} />
        <Figure label="Spend" value={usd(total.costUsd)} testId="figure-spend" raw={total.costUsd} note={total.unpricedRequests > 0 ? `${total.unpricedRequests} unpriced` : undefined} />
        <Figure label="Error rate" value={total.requests === 0 ? '—' : percent(total.errors / total.requests)} testId="figure-error-rate" raw={total.requests === 0 ? 0 : total.errors / total.requests} />
      </div>
      {charts && (
        <div class="chart-grid">
          <TimeChart title="Requests" unit="requests" x={charts.x} series={[{ label: 'Requests', values: charts.requests, color: '#3b82f6' }, { label: 'Errors', values: charts.errors, color: '#ef4444' }]} testId="chart-requests" />
          <TimeChart title="Tokens" unit="tokens" x={charts.x} series={[{ label: 'Prompt', values: charts.prompt, color: '#8b5cf6' }, { label: 'Completion', values: charts.completion, color: '#10b981' }]} testId="chart-tokens" />
          <TimeChart title="Spend" unit="USD" x={charts.x} series={[{ label: 'Spend', values: charts.spend, color: '#f59e0b' }]} testId="chart-spend" />
          <TimeChart title="Error rate" unit="%" x={charts.x} series={[{ label: 'Error rate', values: charts.errorRate, color: '#ef4444' }]} testId="chart-errors" />
        </div>
      )}
      {data && (
        <div class="rank-grid">
          <Ranking title="Top models" rows={data.result.byModel} name={(row) => row.key.modelId ?? '(not in the catalog)'} testId="top-models" />
          <Ranking title="Top providers" rows={data.result.byProvider} name={(row) => row.key.providerId ?? '(refused before routing)'} testId="top-providers" />
          <Ranking title="Top keys" rows={data.result.byKey} name={(row) => row.key.apiKeyId ?? '(admin / open mode)'} testId="top-keys" />
        </div>
      )}
    </section>
  );
}

function Figure({ label, value, note, testId, raw }: { label: string; value: string; note?: string | undefined; testId: string; raw: number }) {
  return (
    <div class="figure" data-testid={testId} data-value={raw}>
      <div class="figure-label">{label}</div>
      <div class="figure-value">{value}</div>
      {note && <div class="figure-note">{note}</div>}
    </div>
  );
}

function Ranking({ title, rows, name, testId }: { title: string; rows: RankBucket[]; name: (row: RankBucket) => string; testId: string }) {
  return (
    <div class="card">
      <h2>{title}</h2>
      <SortTable
        testId={testId}
        rows={rows}
        rowKey={name}
        initialSort={{ key: 'spend', descending: true }}
        columns={[
          { key: 'name', label: 'Name', value: name },
          { key: 'requests', label: 'Requests', numeric: true, value: (row) => row.requests, render: (row) => count(row.requests) },
          { key: 'tokens', label: 'Tokens', numeric: true, value: (row) => row.promptTokens + row.completionTokens, render: (row) => count(row.promptTokens + row.completionTokens) },
          { key: 'spend', label: 'Spend', numeric: true, value: (row) => row.costUsd, render: (row) => usd(row.costUsd) },
        ]}
      />
    </div>
  );
}
