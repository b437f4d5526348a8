/**
 * A loopback HTTP proxy in front of the emulator that records the credentials every request carries
 * (Authorization, X-Security-Token) and can play a gateway that echoes a request's headers back in
 * its error body, the worst a misbehaving gateway could do with them.
 */
import { Agent, createServer, request as forward, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** The headers of every request received, in order. */
  readonly received: IncomingHttpHeaders[];
  /** Answers the next DELETE of `taskId` with a 400 whose error_msg repeats the request's headers. */
  echoHeadersFor(taskId: string): void;
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const received: IncomingHttpHeaders[] = [];
  const echo = new Set<string>();

  const server = createServer((req, res) => {
    received.push(req.headers);
    const taskId = (req.url ?? '').split('?')[0]!.split('/').at(-1) ?? '';
    if (req.method === 'DELETE' && echo.delete(taskId)) {
      const body = JSON.stringify({
        error_code: '111400070',
        error_msg: `invalid task id; request was Authorization: ${req.headers.authorization ?? ''} X-Security-Token: ${String(req.headers['x-security-token'] ?? '')}`,
      });
      res.writeHead(400, { 'content-type': 'application/json', 'x-request-id': 'echo-0000' }).end(body);
      return;
    }
    const out = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    // A client that gave up (timeout, abort) takes its upstream request with it.
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    echoHeadersFor: (taskId) => void echo.add(taskId),
    async close() {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
