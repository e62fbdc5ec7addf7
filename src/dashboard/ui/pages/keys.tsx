import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.js';
import { count, percent, time, usd } from '../format.js';
import { SortTable } from '../table.js';
import { Badge, ErrorNote, useRefresh } from '../ui.js';

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  allowedModels: string[] | null;
  spentUsd: number;
  budget: { limitUsd: number; spentUsd: number; remainingUsd: number; period: string | null } | null;
  rateLimit: { requestsPerMinute: number | null; tokensPerMinute: number | null } | null;
  rateLimitUse: { requests: number; tokens: number; requestsUsed: number | null; tokensUsed: number | null };
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const KEYS = `query DashboardKeys {
  apiKeys(first: 100) { edges { node {
    id name prefix scopes allowedModels spentUsd createdAt lastUsedAt revokedAt
    budget { limitUsd spentUsd remainingUsd period }
    rateLimit { requestsPerMinute tokensPerMinute }
    rateLimitUse { requests tokens requestsUsed tokensUsed }
  } } }
}`;
const CREATE = `mutation DashboardCreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name } } }`;
const REVOKE = `mutation DashboardRevokeKey($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`;

function Meter({ used, label }: { used: number | null; label: string }) {
  if (used === null) return <span class="muted">{label}</span>;
  const clamped = Math.min(1, Math.max(0, used));
  return (
    <span class="meter" title={label}>
      <span class={`meter-bar ${used >= 0.9 ? 'meter-hot' : ''}`} style={{ width: `${clamped * 100}%` }} />
      <span class="meter-text">{label}</span>
    </span>
  );
}

export function Keys() {
  const [keys, setKeys] = useState<KeyRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const tick = useRefresh(10_000);

  useEffect(() => {
    let live = true;
    gql<{ apiKeys: { edges: Array<{ node: KeyRow }> } }>(KEYS)
      .then((data) => live && (setKeys(data.apiKeys.edges.map((edge) => edge.node)), setError(null)))
      .catch((caught: unknown) => live && setError(caught));
    return () => {
      live = false;
    };
  }, [tick, reload]);

  const onCreate = (event: Event): void => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    const scopes = data.getAll('scope').map(String);
    const budget = Number(data.get('budget') ?? '');
    const rpm = Number(data.get('rpm') ?? '');
    const input: Record<string, unknown> = { name, scopes };
    if (budget > 0) input['budget'] = { limitUsd: budget, period: data.get('period') || null };
    if (rpm > 0) input['rateLimit'] = { requestsPerMinute: Math.floor(rpm) };
    gql<{ createApiKey: { secret: string; apiKey: { name: string } } }>(CREATE, { input })
      .then((result) => {
        setCreated({ name: result.createApiKey.apiKey.name, secret: result.createApiKey.secret });
        form.reset();
        setReload((value) => value + 1);
      })
      .catch((caught: unknown) => setError(caught));
  };

  const revoke = (id: string): void => {
    gql(REVOKE, { id })
      .then(() => {
        setConfirming(null);
        setReload((value) => value + 1);
      })
      .catch((caught: unknown) => setError(caught));
  };

  return (
    <section>
      <header class="page-head">
        <h1>Keys</h1>
      </header>
      <ErrorNote error={error} />
      <form class="card create-key" onSubmit={onCreate} data-testid="create-key">
        <h2>New key</h2>
        <div class="form-row">
          <label>
            Name <input name="name" required maxLength={100} placeholder="ci-bot" />
          </label>
          <fieldset>
            <legend>Scopes</legend>
            <label>
              <input type="checkbox" name="scope" value="COMPLETIONS" checked /> completions
            </label>
            <label>
              <input type="checkbox" name="scope" value="READ" /> read
            </label>
            <label>
              <input type="checkbox" name="scope" value="ADMIN" /> admin
            </label>
          </fieldset>
          <label>
            Budget (USD) <input name="budget" type="number" min="0" step="0.01" placeholder="none" />
          </label>
          <label>
            Period
            <select name="period">
              <option value="">lifetime</option>
              <option value="DAILY">daily</option>
              <option value="WEEKLY">weekly</option>
              <option value="MONTHLY">monthly</option>
            </select>
          </label>
          <label>
            Requests / min <input name="rpm" type="number" min="0" step="1" placeholder="none" />
          </label>
          <button type="submit">Create key</button>
        </div>
        {created && (
          <p class="secret" data-testid="created-secret">
            The secret of <strong>{created.name}</strong>, shown once: <code>{created.secret}</code>
          </p>
        )}
      </form>
      {keys && (
        <SortTable
          testId="keys-table"
          rows={keys}
          rowKey={(row) => row.id}
          initialSort={{ key: 'created', descending: true }}
          columns={[
            { key: 'name', label: 'Name', value: (row) => row.name, render: (row) => <span data-key-name={row.name}>{row.name} <small class="muted">{row.prefix}…</small></span> },
            { key: 'scopes', label: 'Scopes', value: (row) => row.scopes.join(', ') },
            {
              key: 'spend',
              label: 'Spend / budget',
              numeric: true,
              value: (row) => row.spentUsd,
              render: (row) =>
                row.budget ? (
                  <Meter used={row.budget.limitUsd > 0 ? row.budget.spentUsd / row.budget.limitUsd : null} label={`${usd(row.budget.spentUsd)} of ${usd(row.budget.limitUsd)}${row.budget.period ? ` ${row.budget.period.toLowerCase()}` : ''}`} />
                ) : (
                  usd(row.spentUsd)
                ),
            },
            {
              key: 'rate',
              label: 'Rate limit (this minute)',
              numeric: true,
              value: (row) => row.rateLimitUse.requestsUsed ?? row.rateLimitUse.requests,
              render: (row) => (
                <Meter
                  used={row.rateLimitUse.requestsUsed}
                  label={row.rateLimit?.requestsPerMinute ? `${count(row.rateLimitUse.requests)} of ${count(row.rateLimit.requestsPerMinute)} req (${percent(row.rateLimitUse.requestsUsed, 0)})` : `${count(row.rateLimitUse.requests)} req, no limit`}
                />
              ),
            },
            { key: 'lastUsed', label: 'Last used', value: (row) => row.lastUsedAt, render: (row) => time(row.lastUsedAt) },
            { key: 'created', label: 'Created', value: (row) => row.createdAt, render: (row) => time(row.createdAt) },
            {
              key: 'state',
              label: 'State',
              value: (row) => (row.revokedAt ? 'revoked' : 'active'),
              render: (row) =>
                row.revokedAt ? (
                  <Badge tone="bad">revoked</Badge>
                ) : confirming === row.id ? (
                  <span class="confirm">
                    <button type="button" class="danger" onClick={() => revoke(row.id)} data-testid={`confirm-revoke-${row.name}`}>
                      Confirm revoke
                    </button>
                    <button type="button" onClick={() => setConfirming(null)}>
                      Cancel
                    </button>
                  </span>
                ) : (
                  <button type="button" onClick={() => setConfirming(row.id)} data-testid={`revoke-${row.name}`}>
                    Revoke
                  </button>
                ),
            },
          ]}
        />
      )}
    </section>
  );
}
