import { GraphQLError } from 'graphql';

/** graphql-ws closes with 4xxx codes of its own; this one mirrors HTTP 429 for "too many sockets for this key". */
export const TOO_MANY_CONNECTIONS_CLOSE_CODE = 4429;

interface SocketLike {
  close(code: number, reason: string): void;
}

/**
 * Per-socket and per-key fan-out limits for graphql-ws, so one client cannot hold an unbounded number of
 * subscriptions (each may be a live upstream completion) or sockets. Connection contexts are keyed weakly, so
 * a socket that never closes cleanly leaves nothing behind.
 */
export class WebSocketLimits {
  private readonly connectionsByKey = new Map<string, number>();
  private readonly keyOfConnection = new WeakMap<object, string>();

  constructor(
    private readonly maxSubscriptionsPerConnection: number,
    private readonly maxConnectionsPerKey: number,
  ) {}

  /** Counts a newly acknowledged socket against its key; closes it (and returns false) past the limit. */
  admitConnection(connection: object, apiKeyId: string | null, socket: SocketLike): boolean {
    const key = apiKeyId ?? '(admin)';
    const open = this.connectionsByKey.get(key) ?? 0;
    if (open >= this.maxConnectionsPerKey) {
      socket.close(TOO_MANY_CONNECTIONS_CLOSE_CODE, `Too many WebSocket connections for this key (limit ${this.maxConnectionsPerKey})`);
      return false;
    }
    this.connectionsByKey.set(key, open + 1);
    this.keyOfConnection.set(connection, key);
    return true;
  }

  release(connection: object): void {
    const key = this.keyOfConnection.get(connection);
    if (key === undefined) return;
    this.keyOfConnection.delete(connection);
    const open = (this.connectionsByKey.get(key) ?? 1) - 1;
    if (open <= 0) this.connectionsByKey.delete(key);
    else this.connectionsByKey.set(key, open);
  }

  /**
   * The error refusing one more operation on a socket, or undefined to admit it. graphql-ws has already
   * registered the new operation's id when onSubscribe runs, so `active` includes it.
   */
  refuseSubscription(active: number): GraphQLError | undefined {
    if (active <= this.maxSubscriptionsPerConnection) return undefined;
    return new GraphQLError(`Too many operations on this WebSocket (limit ${this.maxSubscriptionsPerConnection}): complete some, or open another connection`, {
      extensions: { code: 'BAD_REQUEST', limit: this.maxSubscriptionsPerConnection },
    });
  }

  openConnections(apiKeyId: string | null): number {
    return this.connectionsByKey.get(apiKeyId ?? '(admin)') ?? 0;
  }
}

/** Message types only the server may send: graphql-ws treats receiving one as its own internal error (4500). */
const SERVER_ONLY_TYPES = new Set(['connection_ack', 'next', 'error']);

interface EmittingSocket {
  emit(event: string | symbol, ...args: unknown[]): boolean;
  close(code: number, reason: string): void;
}

/**
 * Keeps client mistakes from reaching graphql-ws as "internal errors", which it logs to the console and answers
 * with 4500, so any client could fill the error logs and pass for a server fault:
 * - a server-only message (`next`, `error`, `connection_ack`) sent by the client is refused with 4400, the code
 *   graphql-ws gives every other malformed message (anything unparseable is left to graphql-ws, which does that);
 * - a frame error raised by ws (a message over maxPayload, invalid UTF-8, a bad opcode; codes `WS_ERR_*`) is not
 *   passed on: ws has already closed the socket with the right code (1009, 1007, 1002).
 */
export function guardClientFrames(socket: EmittingSocket): void {
  const emit = socket.emit.bind(socket);
  socket.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'message' && isServerOnlyMessage(args[0])) {
      socket.close(4400, 'Invalid message received');
      return true;
    }
    if (event === 'error' && isClientFrameError(args[0])) return true;
    return emit(event, ...args);
  };
}

function isClientFrameError(error: unknown): boolean {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('WS_ERR_');
}

function isServerOnlyMessage(data: unknown): boolean {
  let text: string;
  if (typeof data === 'string') text = data;
  else if (Buffer.isBuffer(data)) text = data.toString('utf8');
  else if (Array.isArray(data) && data.every((part) => Buffer.isBuffer(part))) text = Buffer.concat(data).toString('utf8');
  else return false;
  try {
    const message: unknown = JSON.parse(text);
    return typeof message === 'object' && message !== null && 'type' in message && typeof message.type === 'string' && SERVER_ONLY_TYPES.has(message.type);
  } catch {
    return false;
  }
}
