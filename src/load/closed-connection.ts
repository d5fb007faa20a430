// One connection of the closed driver: opening it (TLS verified unless --insecure), killing it, and the outcome of
// the requests that were on it when it died.

import net from 'node:net';
import tls from 'node:tls';
import type { AcClient } from './autocannon-internals.js';
import type { Backoff } from './backoff.js';
import { recordFailure, recordTimeout } from './driver.js';
import type { DriverContext, InFlightRequest } from './driver.js';
import type { LoadOptions } from './types.js';

export interface Connection {
  socket: net.Socket;
  /** TCP (or TLS) handshake done: request bytes may have reached the server. */
  connected: boolean;
  /** At least one answer came on this connection. */
  answered: boolean;
  /** The server said Connection: close; send nothing more on it. */
  closing: boolean;
  /** The response that said so is complete: whatever is still pipelined behind it was never processed. */
  closed: boolean;
  down: boolean;
}

export interface ClientState {
  client: AcClient;
  conn: Connection | null;
  inflight: InFlightRequest[];
  backoff: Backoff;
  reconnectTimer: NodeJS.Timeout | null;
}

export function openConnection(o: LoadOptions, host: string, port: number, secure: boolean): Connection {
  const socket = secure
    ? tls.connect({
        host,
        port,
        rejectUnauthorized: !o.insecure,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.servername ? { servername: o.servername } : {}),
      })
    : net.connect({ host, port });
  const conn: Connection = { socket, connected: false, answered: false, closing: false, closed: false, down: false };
  socket.on(secure ? 'secureConnect' : 'connect', () => {
    conn.connected = true;
  });
  return conn;
}

/** Marks the connection down and destroys its socket, ignoring whatever the socket still says. */
export function killSocket(conn: Connection): void {
  conn.down = true;
  conn.socket.removeAllListeners();
  conn.socket.on('error', () => undefined);
  conn.socket.destroy();
}

/** Gives every request that was on a dead connection its outcome; returns how many sends were taken back. */
export function settlePending(ctx: DriverContext, conn: Connection, pending: InFlightRequest[], code: string, now: number): number {
  let retracted = 0;
  pending.forEach((req, i) => {
    // Pipelined behind a completed `Connection: close` answer: by protocol these get no answer, so they are not the
    // target's errors; the send is taken back (and replaced). A server may still have run them (Node's does), so a
    // write among them is `unknown`, never `fail`.
    if (conn.closing && (conn.closed || i > 0)) {
      ctx.timeline.retractSent(req.tMs);
      retracted += 1;
      if (req.ledger >= 0) ctx.ledger.complete(req.ledger, now, { errorCode: 'NOT_ANSWERED', sent: true });
    } else if (code === 'ETIMEDOUT') {
      // Every request on a connection given up for a hang is timed out, censored at its deadline (or now, for one
      // pipelined behind the head that had not reached its own).
      recordTimeout(ctx, req, Math.min(now, req.tMs + ctx.options.timeoutMs), conn.connected);
    } else {
      recordFailure(ctx, req, code, conn.connected, now);
    }
  });
  return retracted;
}
