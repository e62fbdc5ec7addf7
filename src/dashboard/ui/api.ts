import { createClient, type Client } from 'graphql-ws';

// The dashboard's only way to the gateway: the public GraphQL API, over HTTP for queries and mutations and over
// graphql-ws for subscriptions. The admin key is entered once and kept for the browser session only.

const KEY_STORAGE = 'switchboard.dashboard.key';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  if (key === null || key === '') sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
  client?.dispose();
  client = null;
}

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string };
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

function headers(): Record<string, string> {
  const key = storedKey();
  return {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    ...(key ? { authorization: `Bearer ${key}` } : {}),
  };
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch('/graphql', { method: 'POST', headers: headers(), body: JSON.stringify({ query, variables }), credentials: 'omit' });
  let body: { data?: T | null; errors?: GraphQLErrorShape[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError(`The gateway answered ${response.status} without JSON`, undefined);
  }
  const error = body.errors?.[0];
  if (error) throw new ApiError(error.message, error.extensions?.code);
  if (!body.data) throw new ApiError(`The gateway answered ${response.status} without data`, undefined);
  return body.data;
}

let client: Client | null = null;

function wsClient(): Client {
  if (!client) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    client = createClient({
      url: `${scheme}//${location.host}/graphql`,
      connectionParams: () => {
        const key = storedKey();
        return key ? { authorization: `Bearer ${key}` } : {};
      },
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
    });
  }
  return client;
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  error(error: ApiError): void;
  /** Called once the server acknowledged the connection, so events from now on arrive. */
  connected?(): void;
}

/** Subscribes over graphql-ws; returns the unsubscribe function. */
export function subscribe<T>(query: string, handlers: SubscriptionHandlers<T>): () => void {
  const ws = wsClient();
  const off = handlers.connected ? ws.on('connected', () => handlers.connected?.()) : () => undefined;
  const dispose = ws.subscribe<T>(
    { query },
    {
      next: (result) => {
        const error = result.errors?.[0];
        if (error) handlers.error(new ApiError(error.message, (error.extensions as { code?: string } | undefined)?.code));
        else if (result.data) handlers.next(result.data);
      },
      error: (error) => handlers.error(new ApiError(error instanceof Error ? error.message : 'The live connection closed', undefined)),
      complete: () => undefined,
    },
  );
  return () => {
    off();
    dispose();
  };
}
