import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Authenticator } from '../auth/viewer.js';
import { createContext } from '../context.js';
import { asGatewayError } from '../errors.js';
import { newId } from '../ids.js';
import { fixedFieldLogger, type Logger } from '../logger.js';
import { maskError } from '../schema/errors.js';
import type { Services } from '../services.js';
import { logWebSocketOperation, requestScope } from './access-log.js';
import type { Tracer } from '@opentelemetry/api';
import { traceWebSocketOperation } from '../telemetry/spans.js';
import type { TraceScope } from '../telemetry/tracing.js';
import { operationLabel, type GraphQLServer } from './graphql.js';
import type { LimitsConfig } from './limits.js';
import { SHED_RETRY_AFTER_SECONDS, type InflightLimiter } from './load-shedding.js';
import { isLoopbackHostHeader } from './loopback.js';
import { isAllowedWebSocketOrigin } from './origin.js';
import { guardClientFrames, WebSocketLimits } from './websocket-limits.js';

export interface GraphQLWebSocketOptions {
  yoga: GraphQLServer;
  services: Services;
  authenticator: Authenticator;
  limits: LimitsConfig;
  /** Without an admin key (open local mode) only loopback host names are served. */
  adminKey: string | undefined;
  /** True once shutdown began: new connections are refused. */
  isDraining: () => boolean;
  /** Set only when traces are exported: each operation then gets a root span of its own. */
  tracer?: Tracer | undefined;
  /** Where each operation's access-log line goes. */
  logger: Logger;
  /** Requests in flight, shared with HTTP: a new operation past the bound is refused at once. */
  inflight: InflightLimiter;
  /** Called for each operation refused by load shedding. */
  onShed: () => void;
}

export interface GraphQLWebSocketBridge {
  /** The server's 'upgrade' listener: /graphql connections that pass the origin and host checks are accepted. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Resolves once no WebSocket operation is running, or after `ms`. */
  settled(ms: number): Promise<void>;
  /** Closes every connection (1001, going away) and the WebSocket server. */
  close(): void;
}

type Enveloped = ReturnType<GraphQLServer['getEnveloped']>;

/** The execute and subscribe of the enveloped instance an operation was prepared with. */
type EnvelopedRunners = Pick<Enveloped, 'execute' | 'subscribe'> & { requestId: string };

/** An operation holding an in-flight slot, until its access-log line is written. */
interface TrackedOperation {
  requestId: string;
  keyPrefix: string | undefined;
  operationName: string | undefined;
  startedAt: number;
  /** The first error the operation reported, by code. */
  errorCode: string | undefined;
}

function errorCodeOf(error: { extensions?: Record<string, unknown> | undefined }): string {
  const code = error.extensions?.['code'];
  return typeof code === 'string' ? code : 'BAD_REQUEST';
}

function toGraphQLError(error: Error): GraphQLError {
  return error instanceof GraphQLError ? error : new GraphQLError(error.message);
}

/** A client's `complete` message is tiny; anything longer is a subscribe (up to the body limit) and is not parsed twice. */
const MAX_COMPLETE_MESSAGE_BYTES = 512;

/** The operation id of a client's `complete` message, or undefined for any other message. */
function completedOperationId(data: RawData): string | undefined {
  const size = Array.isArray(data) ? data.reduce((total, part) => total + part.length, 0) : data.byteLength;
  if (size > MAX_COMPLETE_MESSAGE_BYTES) return undefined;
  const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
  try {
    const message: unknown = JSON.parse(text);
    if (typeof message !== 'object' || message === null || !('type' in message) || message.type !== 'complete' || !('id' in message)) return undefined;
    return typeof message.id === 'string' ? message.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One AbortController per running operation of each socket: the Context's `signal`, as HTTP has the request's.
 * graphql-ws only ends subscriptions when the socket closes or the client sends `complete`; a mutation such as
 * createCompletion would run on, upstream and charged, for a caller who is gone. Aborting the signal cancels it
 * (recorded CANCELLED) on both events.
 */
class OperationSignals {
  private readonly bySocket = new WeakMap<WebSocket, Map<string, AbortController>>();

  /** Watches a new socket: its `complete` messages and its close abort the operations it started. */
  watch(socket: WebSocket): void {
    socket.on('message', (data) => {
      const id = completedOperationId(data);
      if (id !== undefined) this.abort(socket, id);
    });
    socket.once('close', () => {
      const operations = this.bySocket.get(socket);
      this.bySocket.delete(socket);
      for (const controller of operations?.values() ?? []) controller.abort();
    });
  }

  /** The signal of a starting operation; an id reused after its operation ended starts afresh. */
  start(socket: WebSocket, id: string): AbortSignal {
    let operations = this.bySocket.get(socket);
    if (!operations) this.bySocket.set(socket, (operations = new Map()));
    const controller = new AbortController();
    // A socket that closed before the operation got here: nothing will abort it later, so it starts aborted.
    if (socket.readyState !== socket.OPEN) controller.abort();
    operations.set(id, controller);
    return controller.signal;
  }

  /** The operation ended on its own: its signal is no longer needed (and must not be aborted afterwards). */
  finish(socket: WebSocket, id: string): void {
    this.bySocket.get(socket)?.delete(id);
  }

  private abort(socket: WebSocket, id: string): void {
    const operations = this.bySocket.get(socket);
    const controller = operations?.get(id);
    operations?.delete(id);
    controller?.abort();
  }
}

/**
 * graphql-ws over Yoga's own pipeline, as Yoga's examples/graphql-ws does: onSubscribe parses and validates with
 * the enveloped instance and returns execution args; execute and subscribe then run that same instance's
 * functions, so masking, limits and context match HTTP exactly. graphql-ws hands execute the very args object
 * onSubscribe returned, so the enveloped functions are found by that object in a WeakMap rather than smuggled
 * through rootValue and cast back.
 */
export function createGraphQLWebSocketBridge(options: GraphQLWebSocketOptions): GraphQLWebSocketBridge {
  const { yoga, services, authenticator, limits } = options;
  // The operation line is built field by field from values that cannot hold a secret: redaction would only cost.
  const lineLogger = fixedFieldLogger(options.logger);
  const webSockets = new WebSocketServer({ noServer: true, maxPayload: limits.maxBodyBytes });
  const connectionLimits = new WebSocketLimits(limits.webSocket.maxSubscriptionsPerConnection, limits.webSocket.maxConnectionsPerKey);
  const runners = new WeakMap<ExecutionArgs, EnvelopedRunners>();
  const signals = new OperationSignals();
  let operations = 0;
  const idle: Array<() => void> = [];
  const tracked = new WeakMap<WebSocket, Map<string, TrackedOperation>>();
  // Each traced operation's span, ended when it completes or its signal aborts (client `complete`, socket closed).
  const operationSpans = new WeakMap<WebSocket, Map<string, TraceScope>>();
  const endOperationSpan = (socket: WebSocket, id: string): void => {
    const spans = operationSpans.get(socket);
    spans?.get(id)?.span.end();
    spans?.delete(id);
  };

  /** Writes the operation's access-log line and gives its in-flight slot back; once per operation. */
  const settle = (socket: WebSocket, id: string): void => {
    const operation = tracked.get(socket)?.get(id);
    if (!operation) return;
    tracked.get(socket)?.delete(id);
    options.inflight.release();
    const { startedAt, ...line } = operation;
    logWebSocketOperation(lineLogger, { ...line, durationMs: Date.now() - startedAt });
  };

  /** Logs an operation refused before it took a slot (it gets no onComplete). */
  const logRefused = (requestId: string, operationName: string | undefined, errors: readonly GraphQLError[]): void => {
    const first = errors[0];
    logWebSocketOperation(lineLogger, { requestId, keyPrefix: undefined, operationName, durationMs: 0, errorCode: first ? errorCodeOf(first) : 'BAD_REQUEST' });
  };

  const runnersOf = (args: ExecutionArgs): EnvelopedRunners => {
    const found = runners.get(args);
    // Every operation passes onSubscribe first; reaching here without one is a bug, not a client error.
    if (!found) throw new Error('graphql-ws executed an operation that onSubscribe did not prepare');
    return found;
  };

  useServer<Record<string, unknown>>(
    {
      // Run inside the operation's request scope, so what logs from inside (Yoga's error log) carries its id.
      execute: (args) => {
        const found = runnersOf(args);
        return requestScope.run({ requestId: found.requestId }, () => found.execute(args));
      },
      subscribe: (args) => {
        const found = runnersOf(args);
        return requestScope.run({ requestId: found.requestId }, () => found.subscribe(args));
      },
      connectionInitWaitTimeout: limits.webSocket.connectionInitTimeoutMs,
      onConnect: (ctx) => {
        try {
          const viewer = authenticator.authenticate(ctx.connectionParams?.['authorization']);
          return connectionLimits.admitConnection(ctx, viewer.apiKeyId, ctx.extra.socket);
        } catch {
          return false;
        }
      },
      onClose: (ctx) => connectionLimits.release(ctx),
      onOperation: () => {
        operations++;
      },
      onNext: (ctx, id, _payload, _args, result) => {
        const operation = tracked.get(ctx.extra.socket)?.get(id);
        const first = result.errors?.[0];
        if (operation && first && operation.errorCode === undefined) operation.errorCode = errorCodeOf(first);
      },
      onComplete: (ctx, id) => {
        signals.finish(ctx.extra.socket, id);
        endOperationSpan(ctx.extra.socket, id);
        settle(ctx.extra.socket, id);
        // graphql-ws sends the `complete` message right after this hook returns: count the operation done only
        // once that send is queued, so a shutdown's close frame can never overtake it.
        setTimeout(() => {
          operations--;
          if (operations === 0) for (const resolve of idle.splice(0)) resolve();
        }, 0);
      },
      onSubscribe: async (ctx, id, payload) => {
        const requestId = newId('req');
        const operationName = payload.operationName ?? undefined;
        const refused = connectionLimits.refuseSubscription(Object.keys(ctx.subscriptions).length);
        if (refused) {
          logRefused(requestId, operationName, [refused]);
          return [refused];
        }
        let viewer;
        try {
          viewer = authenticator.authenticate(ctx.connectionParams?.['authorization']);
        } catch (error) {
          const errors = [toGraphQLError(maskError(asGatewayError(error)))];
          logRefused(requestId, operationName, errors);
          return errors;
        }
        // Shed before any work: the same bound as HTTP, told in-band as RATE_LIMITED with the wait.
        if (!options.inflight.tryAcquire()) {
          options.onShed();
          const errors = [
            new GraphQLError(`The gateway is at its limit of ${options.inflight.max} requests in flight; retry after ${SHED_RETRY_AFTER_SECONDS} s`, {
              extensions: { code: 'RATE_LIMITED', retryAfterMs: SHED_RETRY_AFTER_SECONDS * 1000 },
            }),
          ];
          logRefused(requestId, operationName, errors);
          return errors;
        }
        const socket = ctx.extra.socket;
        let operationsOfSocket = tracked.get(socket);
        if (!operationsOfSocket) tracked.set(socket, (operationsOfSocket = new Map()));
        operationsOfSocket.set(id, { requestId, keyPrefix: viewer.key?.prefix, operationName, startedAt: Date.now(), errorCode: undefined });
        // Refused below (parse, validation): no onComplete follows, so the line and the slot are settled here.
        const refuse = (errors: readonly GraphQLError[]): readonly GraphQLError[] => {
          const operation = operationsOfSocket.get(id);
          if (operation) operation.errorCode = errors[0] ? errorCodeOf(errors[0]) : 'BAD_REQUEST';
          settle(socket, id);
          return errors;
        };
        const prebuilt = createContext(services, viewer, requestId, undefined);
        const enveloped = yoga.getEnveloped({ req: ctx.extra.request, requestId, prebuilt, params: payload });
        let document: DocumentNode;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return refuse([toGraphQLError(maskError(error))]);
        }
        let errors: readonly GraphQLError[];
        try {
          errors = enveloped.validate(enveloped.schema, document);
        } catch (error) {
          // A validation rule that throws (rather than reporting) must not take the socket down with it.
          return refuse([toGraphQLError(maskError(error))]);
        }
        if (errors.length > 0) return refuse(errors.map((error) => toGraphQLError(maskError(error))));
        // The context was built before the operation had an id; it gets its signal now, before anything runs.
        const contextValue = await enveloped.contextFactory();
        contextValue.signal = signals.start(ctx.extra.socket, id);
        const label = options.tracer ? operationLabel(document, payload.operationName) : undefined;
        const trace = label && traceWebSocketOperation(options.tracer, label.type, label.name, requestId);
        if (trace) {
          contextValue.trace = trace;
          let spans = operationSpans.get(socket);
          if (!spans) operationSpans.set(socket, (spans = new Map()));
          spans.set(id, trace);
          contextValue.signal.addEventListener('abort', () => endOperationSpan(socket, id), { once: true });
        }
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
        runners.set(args, { execute: enveloped.execute, subscribe: enveloped.subscribe, requestId });
        return args;
      },
    },
    webSockets,
    limits.webSocket.keepAliveMs,
  );

  return {
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/graphql' || options.isDraining()) {
        socket.destroy();
        return;
      }
      if (!isAllowedWebSocketOrigin(req.headers, limits.corsOrigins) || (!options.adminKey && !isLoopbackHostHeader(req.headers.host))) {
        socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      webSockets.handleUpgrade(req, socket, head, (ws) => {
        guardClientFrames(ws);
        signals.watch(ws);
        // A socket gone before graphql-ws completed its operations: their lines are written and slots given back.
        ws.once('close', () => {
          for (const id of [...(tracked.get(ws)?.keys() ?? [])]) settle(ws, id);
        });
        webSockets.emit('connection', ws, req);
      });
    },
    settled(ms) {
      if (operations === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close() {
      for (const client of webSockets.clients) client.close(1001, 'server shutting down');
      webSockets.close();
    },
  };
}
