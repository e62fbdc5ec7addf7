import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; anything that could hold a secret is redacted by path. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'switchboard' },
    redact: { paths: ['authorization', '*.authorization', 'headers.authorization', 'apiKey', '*.apiKey', 'secret', '*.secret'], censor: '[redacted]' },
  });
}
