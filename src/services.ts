import type { BudgetTracker } from './auth/budget.js';
import type { SecretBox } from './auth/secret-box.js';
import type { UpstreamGuard } from './catalog/upstream-guard.js';
import type { EmbeddingService } from './completions/embedding-service.js';
import type { CompletionService } from './completions/service.js';
import type { Config } from './config.js';
import type { AuditEntry } from './db/audit.js';
import type { KeyCache } from './auth/key-cache.js';
import type { CatalogSnapshot } from './catalog/snapshot.js';
import type { ChangeFeed } from './coordination/change-feed.js';
import type { Storage } from './db/storage.js';
import type { AdapterRegistry } from './providers/registry.js';
import type { Router } from './routing/router.js';
import type { UsageRecorder } from './usage/recorder.js';

/**
 * The long-lived services buildApp composes and hands to the transports (GraphQL, REST, WebSocket). It sits with
 * composition, above everything it names: the modules it gathers never import it (dependency-cruiser checks).
 */
export interface Services {
  config: Config;
  /** The repository for the configured dialect (src/db/storage.ts). */
  storage: Storage;
  /** Announces committed changes to what instances cache (catalog, keys, providers). */
  feed: ChangeFeed;
  /** The routing catalog in memory (models, aliases, endpoints, providers). */
  catalog: CatalogSnapshot;
  /** Gateway keys in memory, by hash. */
  keys: KeyCache;
  registry: AdapterRegistry;
  recorder: UsageRecorder;
  completions: CompletionService;
  /** Embeddings, beside completions: the same admission, routing and ledger. */
  embeddings: EmbeddingService;
  /** Routing strategies and the in-memory health of every endpoint (Provider.health). */
  router: Router;
  budgets: BudgetTracker;
  /** Seals provider keys set through the API; absent without SWITCHBOARD_MASTER_KEY. */
  secrets?: SecretBox;
  /** Checks base URLs set through the admin API, and the pool their calls connect through (src/catalog/upstream-guard.ts). */
  upstreamGuard: UpstreamGuard;
  /** Records an admin change in the audit trail; buildApp wires it to src/db/audit.ts. */
  audit: (entry: AuditEntry) => Promise<void>;
}
