// Local servers for the load tests: a fast HTTP server that can be killed (all sockets destroyed) and restarted on
// the same port, a tiny item store like the app's, throwaway TLS certificates made with the openssl CLI, and a
// server in a process of its own that answers nothing for requests arriving in a window (_hang-server.ts).

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FromHangServer, HangServerLog, ToHangServer } from './_hang-server.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export const okHandler: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
};

/** Like the app: POST /items stores {key, value} and answers 201 {id, key}; 409 on a duplicate key; GET /items/:id. */
export function itemStore(): { handler: Handler; keys: Map<string, number> } {
  const keys = new Map<string, number>();
  let next = 0;
  const handler: Handler = (req, res) => {
    if (req.method === 'POST' && req.url === '/items') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { key } = JSON.parse(body) as { key: string };
        if (keys.has(key)) {
          res.writeHead(409).end();
          return;
        }
        next += 1;
        keys.set(key, next);
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: next, key }));
      });
      return;
    }
    if (req.method === 'GET' && req.url?.startsWith('/items/')) {
      const id = Number(req.url.slice('/items/'.length));
      const found = [...keys.values()].includes(id);
      res.writeHead(found ? 200 : 404).end(found ? JSON.stringify({ id }) : '');
      return;
    }
    okHandler(req, res);
  };
  return { handler, keys };
}

export interface TestServer {
  port: number;
  url: string;
  /** Requests the server has seen, with arrival time (performance.now()). */
  arrivals: number[];
  connections: number;
  /** The ground truth of a stall: requests the server answered, and the ones it took and never answered. */
  answered: number;
  held: number;
  /** From now on, take requests and never answer them (a hang: a frozen process, a black-holed path). */
  stall(): void;
  /** Answer new requests again (ends a stall or resets); the ones taken during a stall stay unanswered. */
  resume(): void;
  /** From now on, reset every connection a request arrives on (an RST, as a crashing worker gives). */
  reset(): void;
  /** Requests whose connection was reset. */
  resets: number;
  /** Closes the listener and destroys every socket: clients see resets, then refused connects. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface ServerOptions {
  handler?: Handler;
  tls?: { key: string; cert: string };
  recordArrivals?: boolean;
}

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const handler = opts.handler ?? okHandler;
  const sockets = new Set<Socket>();
  const arrivals: number[] = [];
  let port = 0;
  let server: http.Server | https.Server;
  const state = { connections: 0, answered: 0, held: 0, resets: 0, stalled: false, resetting: false };

  const make = () => {
    const s = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }) : http.createServer();
    s.keepAliveTimeout = 60_000;
    s.on(opts.tls ? 'secureConnection' : 'connection', (sock: Socket) => {
      state.connections += 1;
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    // TLS handshake failures are what the client should see; nothing to do here.
    s.on('tlsClientError', () => undefined);
    s.on('request', (req, res) => {
      if (opts.recordArrivals) arrivals.push(performance.now());
      if (state.resetting) {
        state.resets += 1;
        req.socket.resetAndDestroy();
        return;
      }
      if (state.stalled) {
        state.held += 1;
        req.resume();
        return;
      }
      res.on('finish', () => (state.answered += 1));
      handler(req, res);
    });
    return s;
  };
  const listen = (s: http.Server | https.Server, p: number) =>
    new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });

  server = make();
  await listen(server, 0);
  port = (server.address() as AddressInfo).port;
  const proto = opts.tls ? 'https' : 'http';

  const kill = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    sockets.clear();
    await closed;
  };

  return {
    port,
    url: `${proto}://127.0.0.1:${port}/`,
    arrivals,
    get connections() {
      return state.connections;
    },
    get answered() {
      return state.answered;
    },
    get held() {
      return state.held;
    },
    get resets() {
      return state.resets;
    },
    stall: () => {
      state.stalled = true;
    },
    resume: () => {
      state.stalled = false;
      state.resetting = false;
    },
    reset: () => {
      state.resetting = true;
    },
    kill,
    restart: async () => {
      server = make();
      await listen(server, port);
    },
    close: async () => {
      if (server.listening) await kill();
    },
  };
}

export interface Certs {
  dir: string;
  /** CA the client trusts. */
  caCert: string;
  /** Server key and certificate signed by a *different* CA (for 127.0.0.1 and localhost). */
  otherKey: string;
  otherCert: string;
  /** Server key and certificate signed by the trusted CA. */
  goodKey: string;
  goodCert: string;
  cleanup(): void;
}

/** Two CAs and a server certificate from each, made with the openssl CLI in a temp dir. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-certs-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string) =>
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
  const leaf = (name: string, caName: string) => {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost');
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:faultline.local\\n' > ${name}.ext`], { cwd: dir });
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.crt`,
      '-CAkey',
      `${caName}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  ca('trusted-ca');
  ca('other-ca');
  leaf('good', 'trusted-ca');
  leaf('other', 'other-ca');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    caCert: read('trusted-ca.crt'),
    otherKey: read('other.key'),
    otherCert: read('other.crt'),
    goodKey: read('good.key'),
    goodCert: read('good.crt'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface HangServer {
  url: string;
  /** Hang for requests arriving in [fromMs, toMs) of the server's clock (performance.timeOrigin + performance.now()). */
  hangBetween(fromMs: number, toMs: number): void;
  log(): Promise<HangServerLog>;
  close(): Promise<void>;
}

/** The hang-window server of _hang-server.ts in a child process (loopback only). */
export async function startHangServer(): Promise<HangServer> {
  const child = fork(fileURLToPath(new URL('./_hang-server.ts', import.meta.url)), [], {
    execArgv: ['--import=tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromHangServer['type']>(type: T) =>
    new Promise<Extract<FromHangServer, { type: T }>>((resolve, reject) => {
      const onMessage = (m: FromHangServer) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as Extract<FromHangServer, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`hang server exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { port } = await next('listening');
  const tell = (m: ToHangServer) => child.send(m);
  return {
    url: `http://127.0.0.1:${port}/`,
    hangBetween: (fromMs, toMs) => tell({ type: 'window', fromMs, toMs }),
    log: async () => {
      const reply = next('report');
      tell({ type: 'report' });
      return (await reply).log;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      tell({ type: 'close' });
      await Promise.race([exited, sleep(3000).then(() => void child.kill())]);
    },
  };
}
