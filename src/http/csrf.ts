import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** Headers a browser cannot send cross-site without a CORS preflight; any one of them proves the caller is not a form. */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'graphql-require-preflight', 'apollo-require-preflight', 'x-apollo-operation-name'] as const;

/** Content types a cross-site <form> or a no-cors fetch may send without a preflight. */
const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/**
 * Yoga's CSRF prevention, inlined (its plugin is a separate package): a GraphQL request must carry either a
 * content type a browser would preflight (application/json does) or one of CSRF_HEADERS. A GET query or an
 * EventSource subscription from another site therefore never runs, which matters here because a subscription
 * starts a paid completion. GraphiQL posts JSON and graphql-ws never reaches this path, so both keep working.
 */
export function useCsrfPrevention(): Plugin {
  return {
    onRequestParse({ request }) {
      if (request.method === 'OPTIONS') return;
      const contentType = request.headers.get('content-type');
      if (contentType !== null) {
        const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
        if (mediaType !== '' && !SIMPLE_CONTENT_TYPES.has(mediaType)) return;
      }
      if (CSRF_HEADERS.some((header) => request.headers.has(header))) return;
      throw createGraphQLError(
        `This request has neither a JSON content type nor a ${CSRF_HEADERS[0]} header, so it could be a cross-site request forgery: send Content-Type: application/json, or add the header (any value) to GET requests`,
        { extensions: { code: 'BAD_REQUEST', http: { status: 403 } } },
      );
    },
  };
}
