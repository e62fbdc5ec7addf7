import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { storedKey, storeKey } from './api.js';
import { Catalog } from './pages/catalog.js';
import { GenerationDetail } from './pages/generation.js';
import { Keys } from './pages/keys.js';
import { Live } from './pages/live.js';
import { Overview } from './pages/overview.js';
import { Providers } from './pages/providers.js';

type Route = { page: 'overview' | 'live' | 'providers' | 'keys' | 'catalog' } | { page: 'generation'; id: string };

const PAGES = [
  { page: 'overview', label: 'Overview' },
  { page: 'live', label: 'Live' },
  { page: 'providers', label: 'Providers' },
  { page: 'keys', label: 'Keys' },
  { page: 'catalog', label: 'Catalog' },
] as const;

/** Pages live in the URL's fragment, so the gateway serves one document and every page can be bookmarked. */
function parseRoute(hash: string): Route {
  const [page, id] = hash.replace(/^#\/?/, '').split('/');
  if (page === 'generation' && id) return { page: 'generation', id: decodeURIComponent(id) };
  const known = PAGES.find((entry) => entry.page === page);
  return { page: known ? known.page : 'overview' };
}

function KeyControl() {
  const [editing, setEditing] = useState(false);
  const [hasKey, setHasKey] = useState(storedKey() !== null);
  if (editing) {
    return (
      <form
        class="key-form"
        onSubmit={(event) => {
          event.preventDefault();
          const value = new FormData(event.currentTarget as HTMLFormElement).get('key');
          storeKey(typeof value === 'string' ? value.trim() : null);
          setHasKey(storedKey() !== null);
          setEditing(false);
          location.reload();
        }}
      >
        <input name="key" type="password" autocomplete="off" placeholder="Admin key (kept for this browser session)" aria-label="Admin key" />
        <button type="submit">Use key</button>
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </form>
    );
  }
  return (
    <div class="key-state">
      <button type="button" onClick={() => setEditing(true)} data-testid="key-button">
        {hasKey ? 'Key set · change' : 'Enter key'}
      </button>
      {hasKey && (
        <button
          type="button"
          onClick={() => {
            storeKey(null);
            location.reload();
          }}
        >
          Forget
        </button>
      )}
    </div>
  );
}

function App() {
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));
  useEffect(() => {
    const onHash = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const current = route.page === 'generation' ? 'live' : route.page;
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="#/overview">
          Switchboard
        </a>
        <nav aria-label="Pages">
          {PAGES.map((entry) => (
            <a key={entry.page} href={`#/${entry.page}`} aria-current={entry.page === current ? 'page' : undefined}>
              {entry.label}
            </a>
          ))}
        </nav>
        <KeyControl />
      </header>
      <main data-page={route.page}>
        {route.page === 'overview' && <Overview />}
        {route.page === 'live' && <Live />}
        {route.page === 'providers' && <Providers />}
        {route.page === 'keys' && <Keys />}
        {route.page === 'catalog' && <Catalog />}
        {route.page === 'generation' && <GenerationDetail id={route.id} />}
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
