// A server that answers nothing for requests ARRIVING in a window of its own clock, in a process of its own (its own
// event loop, core and file-descriptor table, so tens of thousands of held sockets and the load's sends do not share
// one thread). Spawned by startHangServer (_support.ts) over IPC; loopback only.
//
// Clock: performance.timeOrigin + performance.now(), the clock a load job's originMs is on, so a window given in it
// lines up with the load's timeline without another exchange.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** To the server: hang for requests arriving in [fromMs, toMs) (absolute, the shared clock); report; stop. */
export type ToHangServer = { type: 'window'; fromMs: number; toMs: number } | { type: 'report' } | { type: 'close' };

export interface HangServerLog {
  /** Requests answered (200). */
  answered: number;
  /** Requests taken inside the window and never answered. */
  held: number;
  /** Arrival times of the held ones, first and last (absolute ms), or null. */
  firstHeldMs: number | null;
  lastHeldMs: number | null;
  connections: number;
}

export type FromHangServer = { type: 'listening'; port: number } | { type: 'report'; log: HangServerLog };

const clock = () => performance.timeOrigin + performance.now();

if (process.send) {
  const send = (m: FromHangServer) => process.send?.(m);
  let window = { fromMs: Number.POSITIVE_INFINITY, toMs: Number.POSITIVE_INFINITY };
  const log: HangServerLog = { answered: 0, held: 0, firstHeldMs: null, lastHeldMs: null, connections: 0 };
  const sockets = new Set<Socket>();
  const server = http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 0 });
  server.on('connection', (sock: Socket) => {
    log.connections += 1;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const at = clock();
    if (at >= window.fromMs && at < window.toMs) {
      log.held += 1;
      log.firstHeldMs ??= at;
      log.lastHeldMs = at;
      req.resume();
      return;
    }
    res.on('finish', () => (log.answered += 1));
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  process.on('message', (m: ToHangServer) => {
    if (m.type === 'window') window = { fromMs: m.fromMs, toMs: m.toMs };
    else if (m.type === 'report') send({ type: 'report', log: { ...log } });
    else {
      for (const s of sockets) s.destroy();
      server.close(() => process.exit(0));
    }
  });
  // A deep accept queue: at thousands of fresh connections a second, a short one would drop SYNs, which the client
  // only retries after a second.
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => send({ type: 'listening', port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
}
