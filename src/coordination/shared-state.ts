import type { ZodType, ZodTypeDef } from 'zod';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RedisConfig } from '../config.js';
import { newId } from '../ids.js';
import type { Logger } from '../logger.js';

/** A Lua script run by its SHA, sent whole only the first time a server does not know it. */
export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/** What runs on Redis when it is reachable, and falls back (or refuses) when it is not. */
export type SharedPart = 'rate_limits' | 'streams' | 'budgets' | 'pubsub';

/**
 * The connection to the Redis every instance shares (REDIS_URL), and what this instance knows of its health.
 * Commands are never queued while Redis is away (enableOfflineQueue: false): each fails at once, so a request
 * waits for no reconnect and the caller decides at once to fall back or refuse. Reachability is logged once per
 * transition, never per request, and counted for /metrics.
 */
export class SharedState {
  readonly client: Redis;
  /** A connection in subscriber mode, for pub/sub only (Redis allows nothing else on it). */
  readonly subscriber: Redis;
  readonly prefix: string;
  readonly failureMode: 'open' | 'closed';
  /** Tells this instance's own messages from others' on the shared channels. */
  readonly instanceId = newId('inst');
  /** Commands and pipelines sent, each one round trip (the bench divides it by requests). */
  roundTrips = 0;
  /** Decisions taken without Redis, by part: per-instance fallbacks (open) and refusals (closed, budgets). */
  readonly fallbacks = new Map<SharedPart, number>();
  readonly refusals = new Map<SharedPart, number>();
  /** Unknown until the first connection or failure, so a Redis that is down at start-up is logged too. */
  private status: 'unknown' | 'up' | 'down' = 'unknown';
  private everUp = false;
  private readonly channelHandlers = new Map<string, (message: string) => void>();
  private readonly upListeners: Array<() => void> = [];
  private readonly subscriptions: Array<Promise<void>> = [];
  private closed = false;

  constructor(
    config: RedisConfig,
    private readonly logger: Logger,
  ) {
    this.prefix = config.prefix;
    this.failureMode = config.failureMode;
    const options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A server that accepted the connection but stopped answering must not hold requests either.
      commandTimeout: 1000,
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
    };
    this.client = new Redis(config.url, { ...options, connectionName: `switchboard:${this.instanceId}` });
    // Subscriptions are re-made by ioredis after a reconnect; its offline queue holds only those commands.
    this.subscriber = new Redis(config.url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    this.client.on('ready', () => this.markUp());
    this.client.on('error', (error: Error) => this.markDown(error));
    this.client.on('close', () => this.markDown(new Error('connection closed')));
    this.subscriber.on('error', () => {
      // The command connection reports reachability; this one only needs a listener so errors are not thrown.
    });
    this.subscriber.on('message', (channel: string, message: string) => this.channelHandlers.get(channel)?.(message));
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  get reachable(): boolean {
    return this.status === 'up';
  }

  /** Resolves once connected, or after `timeoutMs` (start-up goes on without Redis in either failure mode). */
  async ready(timeoutMs: number): Promise<boolean> {
    const connected =
      this.status === 'up'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.client.once('ready', () => resolve());
          });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    // Subscriptions too: a message published by another instance right after start-up must reach this one.
    const result = await Promise.race([Promise.all([connected, ...this.subscriptions]).then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Called whenever Redis becomes reachable again (caches may have missed invalidations meanwhile). */
  onReconnect(listener: () => void): void {
    this.upListeners.push(listener);
  }

  /** Runs `script`, counting round trips and reachability. */
  async eval(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.run(async (client) => {
      try {
        return await client.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        this.roundTrips++;
        return client.eval(script.source, keys.length, ...keys, ...args);
      }
    });
  }

  /** One round trip to Redis; a failure marks it unreachable (logged on the transition) and is rethrown. */
  async run<T>(command: (client: Redis) => Promise<T>): Promise<T> {
    this.roundTrips++;
    try {
      const result = await command(this.client);
      this.markUp();
      return result;
    } catch (error) {
      if (isConnectionError(error)) this.markDown(error);
      throw error;
    }
  }

  /** Publishes `body` as JSON on `channel`, signed with this instance's id so that it can skip its own messages. */
  publish(channel: string, body: Record<string, unknown>): void {
    const message = JSON.stringify({ ...body, from: this.instanceId });
    this.run((client) => client.publish(this.key(channel), message)).catch(() => {
      // Gossip and events are best effort; reachability is already logged by run().
    });
  }

  /**
   * Delivers every message on `channel` from OTHER instances that parses as JSON and matches `schema`; anything
   * else (a foreign publisher on the same prefix, a message from an older version) is dropped.
   */
  listen<T extends { from: string }>(channel: string, schema: ZodType<T, ZodTypeDef, unknown>, handler: (message: T) => void): void {
    const name = this.key(channel);
    this.channelHandlers.set(name, (text) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return;
      }
      const message = schema.safeParse(parsed);
      if (message.success && message.data.from !== this.instanceId) handler(message.data);
    });
    // Not awaited: with Redis away at start-up the subscription waits in the subscriber's queue until it connects.
    this.subscriptions.push(this.subscriber.subscribe(name).then(() => undefined, () => undefined));
  }

  fellBack(part: SharedPart): void {
    this.fallbacks.set(part, (this.fallbacks.get(part) ?? 0) + 1);
  }

  refused(part: SharedPart): void {
    this.refusals.set(part, (this.refusals.get(part) ?? 0) + 1);
  }

  private markUp(): void {
    if (this.status === 'up' || this.closed) return;
    this.status = 'up';
    if (this.everUp) {
      this.logger.info({ redis: 'reachable' }, 'Redis is reachable again: limits, budgets and breakers are shared across instances again');
      for (const listener of this.upListeners) listener();
    } else {
      this.logger.info({ redis: 'reachable', prefix: this.prefix }, 'shared state in Redis');
    }
    this.everUp = true;
  }

  private markDown(error: unknown): void {
    if (this.status === 'down' || this.closed) return;
    this.status = 'down';
    const consequence =
      this.failureMode === 'open'
        ? 'rate limits and stream caps are per instance until it is back; budgets refuse requests'
        : 'requests with rate limits, stream caps or budgets are refused until it is back (SWITCHBOARD_REDIS_FAILURE=closed)';
    this.logger.error({ err: error, redis: 'unreachable', failureMode: this.failureMode }, `Redis is unreachable: ${consequence}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}

/** Errors that say Redis could not be reached (not a script's or a command's own error). */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError' && !error.message.startsWith('LOADING') && !error.message.startsWith('BUSY')) return false;
  return true;
}
