import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that may hold a secret, wherever a log call puts them: request headers, graphql-ws connectionParams,
 * keys and provider credentials. Pino censors them before a line is written.
 */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  'headers["api-key"]',
  '*.headers["api-key"]',
  'headers["x-goog-api-key"]',
  '*.headers["x-goog-api-key"]',
  'connectionParams',
  '*.connectionParams',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'secretHash',
  '*.secretHash',
  'adminKey',
  '*.adminKey',
  'password',
  '*.password',
  'token',
  '*.token',
];

/**
 * Structured JSON logs; anything that could hold a secret is redacted by path. Prompt and completion text are
 * never logged; SWITCHBOARD_STORE_CONTENT keeps them in the database, with the generation, not in the logs.
 * `destination` lets tests read what would be written.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'switchboard' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return pino(options, destination ?? bufferedStdout());
}

/** Bytes gathered before a write; a request writes two lines of ~400 bytes (access and request finished). */
const LOG_BUFFER_BYTES = 8 * 1024;
/** The longest a line waits in the buffer when traffic is too light to fill it. */
const LOG_FLUSH_MS = 200;

/**
 * stdout, written asynchronously in batches. A synchronous write per line was about a tenth of a request's CPU (the
 * write syscall, twice a request); lines now go out when LOG_BUFFER_BYTES have gathered or LOG_FLUSH_MS passed,
 * and pino writes out what is left synchronously when the process exits (flushLogger on an orderly shutdown).
 */
function bufferedStdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES });
  const timer = setInterval(() => {
    // Flushing while the stream is still opening throws; the next tick will do.
    try {
      stream.flush();
    } catch {
      // not ready yet
    }
  }, LOG_FLUSH_MS);
  timer.unref();
  stream.on('close', () => clearInterval(timer));
  return stream;
}

/**
 * A child that skips redaction, for the per-request lines built field by field from values that cannot hold a
 * secret (the access line, the request-finished line). Redaction walks every path (wildcards included) over every
 * line: a few per cent of a request's CPU for lines that never carry one. Anything that logs an object it did not
 * build (an error, a config, headers) uses the redacting logger.
 */
export function fixedFieldLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/** Writes out what the asynchronous destination still holds; before an orderly exit. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    // A destination that cannot write (a closed pipe) must not hold the exit: pino's exit hook retries synchronously.
    const timer = setTimeout(resolve, 2000);
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
