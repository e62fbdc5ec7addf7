import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.js';
import { count, ms, perMillion, time, usd } from '../format.js';
import { Badge, ErrorNote, statusTone } from '../ui.js';

interface Attempt {
  providerId: string;
  providerModelId: string;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  httpStatus: number | null;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  startedAfterMs: number | null;
  retry: number;
  hedged: boolean;
  costUsd: number | null;
}
interface Generation {
  id: string;
  requestId: string | null;
  status: string;
  requestedModel: string;
  model: { id: string } | null;
  provider: { id: string } | null;
  providerModelId: string | null;
  finishReason: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  streamed: boolean;
  latencyMs: number | null;
  timeToFirstTokenMs: number | null;
  createdAt: string;
  finishedAt: string | null;
  warnings: string[];
  usage: { promptTokens: number; completionTokens: number; cachedPromptTokens: number; reasoningTokens: number; totalTokens: number; costUsd: number | null; estimated: boolean };
  pricing: { promptPerMillion: number | null; completionPerMillion: number | null; cachedPromptPerMillion: number | null; known: boolean };
  attempts: Attempt[];
}

const GENERATION = `query DashboardGeneration($id: ID!) {
  generation(id: $id) {
    id requestId status requestedModel model { id } provider { id } providerModelId finishReason errorCode errorMessage streamed
    latencyMs timeToFirstTokenMs createdAt finishedAt warnings
    usage { promptTokens completionTokens cachedPromptTokens reasoningTokens totalTokens costUsd estimated }
    pricing { promptPerMillion completionPerMillion cachedPromptPerMillion known }
    attempts { providerId providerModelId status errorCode errorMessage httpStatus latencyMs timeToFirstTokenMs startedAfterMs retry hedged costUsd }
  }
}`;

/** What kind of attempt this was within its request: the first, a retry, a hedge, or a fallback to another endpoint. */
function attemptKind(attempt: Attempt, index: number, attempts: Attempt[]): string {
  if (attempt.hedged) return 'hedge';
  if (attempt.retry > 0) return `retry ${attempt.retry}`;
  if (index === 0) return 'first';
  const first = attempts[0];
  return first && (first.providerId !== attempt.providerId || first.providerModelId !== attempt.providerModelId) ? 'fallback' : 'again';
}

export function GenerationDetail({ id }: { id: string }) {
  const [generation, setGeneration] = useState<Generation | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    gql<{ generation: Generation | null }>(GENERATION, { id })
      .then((data) => setGeneration(data.generation))
      .catch((caught: unknown) => setError(caught));
  }, [id]);

  if (error) return <ErrorNote error={error} />;
  if (generation === undefined) return <p class="muted">Loading…</p>;
  if (generation === null) return <p class="error">No generation {id} (or this key may not read it).</p>;

  const span = Math.max(1, generation.latencyMs ?? 0, ...generation.attempts.map((attempt) => (attempt.startedAfterMs ?? 0) + attempt.latencyMs));
  const usage = generation.usage;
  const uncached = usage.promptTokens - usage.cachedPromptTokens;
  const line = (tokens: number, price: number | null): string => (price === null ? '—' : usd((tokens * price) / 1_000_000));
  return (
    <section data-testid="generation-detail">
      <header class="page-head">
        <h1>
          Generation <code>{generation.id}</code>
        </h1>
        <Badge tone={statusTone(generation.status)}>{generation.status}</Badge>
      </header>
      <dl class="stats">
        <div>
          <dt>Model</dt>
          <dd>{generation.model?.id ?? generation.requestedModel}</dd>
        </div>
        <div>
          <dt>Provider</dt>
          <dd>{generation.provider ? `${generation.provider.id} · ${generation.providerModelId ?? ''}` : '—'}</dd>
        </div>
        <div>
          <dt>Latency / first token</dt>
          <dd>
            {ms(generation.latencyMs)} / {ms(generation.timeToFirstTokenMs)}
          </dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>
            {time(generation.finishedAt)} {generation.streamed ? '· streamed' : ''} {generation.finishReason ? `· ${generation.finishReason}` : ''}
          </dd>
        </div>
      </dl>
      {generation.errorMessage && (
        <p class="error">
          {generation.errorCode}: {generation.errorMessage}
        </p>
      )}
      {generation.warnings.length > 0 && (
        <div class="card">
          <h2>Warnings</h2>
          <ul>
            {generation.warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        </div>
      )}
      <div class="card">
        <h2>Attempts</h2>
        <ol class="timeline" data-testid="attempts">
          {generation.attempts.map((attempt, index) => {
            const start = attempt.startedAfterMs ?? 0;
            return (
              <li key={index}>
                <div class="timeline-label">
                  <Badge tone={statusTone(attempt.status)}>{attempt.status}</Badge> {attempt.providerId} · {attempt.providerModelId} <small class="muted">({attemptKind(attempt, index, generation.attempts)})</small>
                </div>
                <div class="timeline-track" title={`started after ${ms(start)}, took ${ms(attempt.latencyMs)}`}>
                  <span class={`timeline-bar bar-${statusTone(attempt.status)}`} style={{ left: `${(start / span) * 100}%`, width: `${Math.max(0.5, (attempt.latencyMs / span) * 100)}%` }} />
                </div>
                <div class="timeline-meta">
                  +{ms(start)} · {ms(attempt.latencyMs)}
                  {attempt.timeToFirstTokenMs !== null ? ` · first token ${ms(attempt.timeToFirstTokenMs)}` : ''}
                  {attempt.httpStatus ? ` · HTTP ${attempt.httpStatus}` : ''}
                  {attempt.errorCode ? ` · ${attempt.errorCode}` : ''}
                  {attempt.errorMessage ? ` — ${attempt.errorMessage}` : ''}
                  {attempt.costUsd !== null ? ` · ${usd(attempt.costUsd)}` : ''}
                </div>
              </li>
            );
          })}
        </ol>
      </div>
      <div class="card">
        <h2>Cost</h2>
        <table class="cost" data-testid="cost-breakdown">
          <thead>
            <tr>
              <th>Part</th>
              <th class="num">Tokens</th>
              <th class="num">Price</th>
              <th class="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>Prompt</td>
              <td class="num">{count(uncached)}</td>
              <td class="num">{perMillion(generation.pricing.promptPerMillion)}</td>
              <td class="num">{line(uncached, generation.pricing.promptPerMillion)}</td>
            </tr>
            <tr>
              <td>Cached prompt</td>
              <td class="num">{count(usage.cachedPromptTokens)}</td>
              <td class="num">{perMillion(generation.pricing.cachedPromptPerMillion ?? generation.pricing.promptPerMillion)}</td>
              <td class="num">{line(usage.cachedPromptTokens, generation.pricing.cachedPromptPerMillion ?? generation.pricing.promptPerMillion)}</td>
            </tr>
            <tr>
              <td>Completion{usage.reasoningTokens > 0 ? ` (${count(usage.reasoningTokens)} reasoning)` : ''}</td>
              <td class="num">{count(usage.completionTokens)}</td>
              <td class="num">{perMillion(generation.pricing.completionPerMillion)}</td>
              <td class="num">{line(usage.completionTokens, generation.pricing.completionPerMillion)}</td>
            </tr>
          </tbody>
          <tfoot>
            <tr>
              <th>Total{usage.estimated ? ' (usage estimated)' : ''}</th>
              <th class="num">{count(usage.totalTokens)}</th>
              <th />
              <th class="num">{usd(usage.costUsd)}</th>
            </tr>
          </tfoot>
        </table>
      </div>
    </section>
  );
}
