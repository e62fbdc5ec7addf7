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
  // A synchronous write to stdout per line was a tenth of a request's CPU: lines are written asynchronously, those
  // that pile up while a write is pending go out together, and pino flushes what is left synchronously on exit.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
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
