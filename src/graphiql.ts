import type { GraphiQLOptions } from 'graphql-yoga';

const EXAMPLE = `# Welcome to Switchboard. Try the catalog, a completion, or a streamed completion.

query Catalog {
  models(first: 5) {
    edges { node { id name contextLength pricing { promptPerMillion completionPerMillion } } }
  }
}

mutation Complete {
  createCompletion(input: { model: "local/echo", messages: [{ role: USER, content: "Hello from Switchboard" }] }) {
    id
    message { content }
    finishReason
    usage { promptTokens completionTokens totalTokens costUsd }
  }
}

subscription Stream {
  completionStream(input: { model: "local/echo", messages: [{ role: USER, content: "Streaming one word at a time" }] }) {
    __typename
    ... on CompletionDelta { text }
    ... on CompletionDone { finishReason usage { totalTokens } }
  }
}
`;

let cached: Promise<string> | undefined;

/**
 * GraphiQL with its scripts inlined (no CDN), so it works offline. The page is large (~9 MB) and the same
 * for everyone, so it is rendered once, and only when someone first asks for it: the module that holds it is
 * ~9 MB of JavaScript too, which a gateway that never serves GraphiQL (and every test process) need not
 * parse at start-up.
 */
export function renderOfflineGraphiQL(options: GraphiQLOptions): Promise<string> {
  cached ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) =>
    renderGraphiQL({ ...options, title: 'Switchboard', subscriptionsProtocol: 'WS', defaultQuery: EXAMPLE }),
  );
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
