import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** A counter that goes up every `ms`, to re-run a page's query; paused while the tab is hidden. */
export function useRefresh(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((value) => value + 1);
    }, ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <p class="error" role="alert">
      {code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' ? 'This needs the admin key: enter it with the key button above. ' : ''}
      {message}
    </p>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'info'; children: string }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function statusTone(status: string): 'ok' | 'warn' | 'bad' | 'info' {
  if (status === 'SUCCEEDED' || status === 'CLOSED' || status === 'OK') return 'ok';
  if (status === 'CANCELLED' || status === 'HALF_OPEN' || status === 'IN_PROGRESS') return 'warn';
  if (status === 'FAILED' || status === 'INTERRUPTED' || status === 'OPEN') return 'bad';
  return 'info';
}
