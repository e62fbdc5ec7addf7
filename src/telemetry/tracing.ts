import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';

type Core = typeof import('@opentelemetry/core');
type Exporter = typeof import('@opentelemetry/exporter-trace-otlp-http');
type Resources = typeof import('@opentelemetry/resources');
type TraceSdk = typeof import('@opentelemetry/sdk-trace-base');
type Conventions = typeof import('@opentelemetry/semantic-conventions');

/**
 * The SDK, the exporter and the propagator are loaded only when traces are exported (several MB of a process that
 * does not trace); synchronously, through require, because createTracing and traceHeaders are synchronous.
 */
const load = createRequire(import.meta.url);

/**
 * OpenTelemetry traces: a provider exporting over OTLP HTTP when an endpoint is configured, nothing otherwise.
 *
 * There is no AsyncLocalStorage context manager among our dependencies (@opentelemetry/context-async-hooks is not
 * installed, and sdk-trace-base ships only a stack-based one that loses the context across `await`), so spans are
 * never looked up in a global context: a parent travels explicitly as a `TraceScope` — on the Caller, the attempt
 * sink, the attempt — and every child is made by the parent's own tracer. Without an endpoint no scope is ever
 * made, so the rest of the code does nothing but test `undefined`.
 */

export interface TracingConfig {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; traces go to `<endpoint>/v1/traces`. Unset: no tracing. */
  otlpEndpoint: string | undefined;
  /** OTEL_SERVICE_NAME, default "switchboard". */
  serviceName: string;
}

export interface Tracing {
  /** Undefined when tracing is off: callers then make no spans at all. */
  readonly tracer: Tracer | undefined;
  /** Exports what is buffered and stops the exporter (app.stop(), after the last request's spans ended). */
  shutdown(): Promise<void>;
}

/** A recording span and the tracer that made it, so children come from the same provider without a global. */
export interface TraceScope {
  tracer: Tracer;
  span: Span;
}

const TRACER_NAME = 'switchboard';

export function createTracing(config: TracingConfig): Tracing {
  if (!config.otlpEndpoint) return { tracer: undefined, shutdown: async () => undefined };
  const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-http') as Exporter;
  const { resourceFromAttributes } = load('@opentelemetry/resources') as Resources;
  const { BasicTracerProvider, BatchSpanProcessor } = load('@opentelemetry/sdk-trace-base') as TraceSdk;
  const { ATTR_SERVICE_NAME } = load('@opentelemetry/semantic-conventions') as Conventions;
  const exporter = new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // Registered too, so libraries that trace through the global API land in the same export; ours does not rely on
  // it (a second app in one process keeps its own provider even though the global can be set only once).
  const registered = trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer(TRACER_NAME),
    async shutdown() {
      await provider.shutdown();
      if (registered) trace.disable();
    },
  };
}

/**
 * A child of `parent`, or undefined when there is no parent or it records nothing (tracing off, or sampled out):
 * then `attributes` is never called, so building them costs nothing either.
 */
export function startChild(parent: TraceScope | undefined, name: string, kind: SpanKind, attributes?: () => Attributes): TraceScope | undefined {
  if (!parent || !parent.span.isRecording()) return undefined;
  const span = parent.tracer.startSpan(name, { kind, ...(attributes ? { attributes: attributes() } : {}) }, trace.setSpan(ROOT_CONTEXT, parent.span));
  return { tracer: parent.tracer, span };
}

/** Ends a span as failed: its status says error and the exception is recorded with its message only. */
export function endWithError(scope: TraceScope | undefined, error: unknown): void {
  if (!scope) return;
  const message = error instanceof Error ? error.message : String(error);
  scope.span.setStatus({ code: SpanStatusCode.ERROR, message });
  scope.span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
  scope.span.end();
}

/** Runs `work` inside a child span named `name`, ending it however `work` ends. Without a parent it only runs `work`. */
export async function inChildSpan<T>(parent: TraceScope | undefined, name: string, work: () => Promise<T>): Promise<T> {
  const scope = startChild(parent, name, SpanKind.INTERNAL);
  if (!scope) return work();
  try {
    const value = await work();
    scope.span.end();
    return value;
  } catch (error) {
    endWithError(scope, error);
    throw error;
  }
}

let w3c: W3CTraceContextPropagator | undefined;
/** Only spans that exist carry headers, so this loads only once tracing is on. */
function propagator(): W3CTraceContextPropagator {
  w3c ??= new (load('@opentelemetry/core') as Core).W3CTraceContextPropagator();
  return w3c;
}

/** The W3C `traceparent` (and `tracestate`) naming `scope`'s span as the parent of what the headers go with. */
export function traceHeaders(scope: TraceScope): Record<string, string> {
  const headers: Record<string, string> = {};
  propagator().inject(trace.setSpan(ROOT_CONTEXT, scope.span), headers, {
    set: (carrier, key, value) => {
      carrier[key] = value;
    },
  });
  return headers;
}

/** A server span continuing the caller's trace when it sent a valid `traceparent`. */
export function startServerSpan(tracer: Tracer, name: string, headers: Record<string, string | string[] | undefined>, attributes: Attributes): TraceScope {
  const parent = propagator().extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  return { tracer, span };
}
