import type { IncomingHttpHeaders } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { isAllowedOrigin } from './origin.js';

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

/** Why a REST request was refused before it ran, in the OpenAI error shape's terms. */
export interface RestRefusal {
  status: 403 | 415;
  code: 'forbidden' | 'unsupported_media_type';
  type: 'permission_error' | 'invalid_request_error';
  message: string;
}

/**
 * The REST facade's CSRF and origin rules, checked before anything is authenticated or read. A page on another
 * site can POST text/plain, form or multipart bodies (or no content type at all) without a CORS preflight, and in
 * open local mode every caller is admin, so such a post would run a paid completion on the visitor's machine:
 * a body must be application/json, which no browser sends cross-site without a preflight the gateway never grants.
 * A browser's Origin must be the gateway's own or one SWITCHBOARD_CORS_ORIGINS lists, on every route.
 */
export function refuseRestRequest(method: string | undefined, headers: IncomingHttpHeaders, corsOrigins: readonly string[]): RestRefusal | undefined {
  if (!isAllowedOrigin(headers, corsOrigins)) {
    return {
      status: 403,
      code: 'forbidden',
      type: 'permission_error',
      message: `Requests from the web page at ${headers.origin ?? 'another origin'} are not allowed; list its origin in SWITCHBOARD_CORS_ORIGINS, or call the gateway from a server`,
    };
  }
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return undefined;
  const mediaType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return {
      status: 415,
      code: 'unsupported_media_type',
      type: 'invalid_request_error',
      message: `The request body must be JSON sent with Content-Type: application/json${mediaType ? `, not ${mediaType}` : ''}`,
    };
  }
  return undefined;
}
