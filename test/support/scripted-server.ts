import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as the server received it, with its response still open for the script to answer. */
export interface ReceivedRequest {
  method: string;
  /** Path and query as sent on the wire. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  res: ServerResponse;
  socket: Socket;
}

export type Script = (request: ReceivedRequest) => void;

/**
 * A loopback HTTP server (127.0.0.1, port 0) that records every request and answers with the
 * current script. Without a script a request waits: take it with `nextRequest()` and answer it by hand.
 */
export interface ScriptedServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  requests: ReceivedRequest[];
  /** Number of TCP connections accepted so far. */
  connections(): number;
  script(handler: Script | undefined): void;
  /** The next request not yet taken by nextRequest, as soon as it arrives. */
  nextRequest(): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

export async function startScriptedServer(initial?: Script): Promise<ScriptedServer> {
  let handler = initial;
  let accepted = 0;
  let taken = 0;
  const requests: ReceivedRequest[] = [];
  const waiters: ((request: ReceivedRequest) => void)[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        res,
        socket: req.socket,
      };
      requests.push(received);
      const waiter = waiters.shift();
      if (waiter) {
        taken += 1;
        waiter(received);
      }
      handler?.(received);
    });
  });
  server.on('connection', () => {
    accepted += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => accepted,
    script(next) {
      handler = next;
    },
    nextRequest() {
      const ready = requests[taken];
      if (ready !== undefined) {
        taken += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** Answers with `status`, a JSON (or raw string) body and extra headers. */
export function answer(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
