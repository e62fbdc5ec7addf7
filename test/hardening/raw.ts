import { request } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request over node:http, for what fetch hides: chunked bodies with no content-length, a declared length
 * bigger than what is sent, exact headers.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; chunks?: Array<string | Buffer>; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let answered: (() => void) | undefined;
    const req = request(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (res) => {
      const parts: Buffer[] = [];
      answered = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') });
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', answered);
      res.on('error', answered);
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error('raw request timed out')));
    // The server may answer (413) and close before every chunk is written: then the response is what counts.
    req.on('error', (error) => (answered ? answered() : reject(error)));
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

/** Opens a TCP connection and resolves with what the server sent once it closed the connection. */
export function openSocket(url: string): { write(text: string): boolean; closed: Promise<string>; destroy(): void } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('utf8');
  });
  const closed = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(received));
    socket.on('error', () => undefined);
  });
  return { write: (text) => socket.write(text), closed, destroy: () => socket.destroy() };
}
