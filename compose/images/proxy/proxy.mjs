// faultline's fault proxy (Node 18, no dependencies). Runs in a helper that shares a server's network namespace:
// nftables diverts one port to it, and it forwards each connection to the real service (the address the connection
// was diverted from, or 127.0.0.1) with toxics — per connection for TCP (latency with jitter, bandwidth, slow close,
// reset, timeout), per request for HTTP (abort with a status, delay, reset; a share of requests, path and method).
// Its configuration is one JSON document in PROXY_CONFIG, made and validated by faultline (src/faults/proxy-config.ts).
// It prints "listening <port>" once it accepts, and exits by itself after exitAfterMs (the dead man's switch).

import http from 'node:http';
import net from 'node:net';

/** The delay of one chunk: latency ± a uniform share of jitter, never below 0. Pure apart from `random`. */
export function chunkDelay(latencyMs, jitterMs, random = Math.random) {
  return Math.max(0, latencyMs + (jitterMs > 0 ? (random() * 2 - 1) * jitterMs : 0));
}

/** When each piece of `bytes` may go at `rate` bytes/s after `from` (ms): slices of 10 ms, so a 1 MB/s flow is even. Pure. */
export function paceSlices(bytes, rate, from) {
  const slice = Math.max(1, Math.floor(rate / 100));
  const out = [];
  let at = from;
  for (let done = 0; done < bytes; done += slice) {
    const n = Math.min(slice, bytes - done);
    at += (n / rate) * 1000;
    out.push({ offset: done, length: n, at });
  }
  return out;
}

/** Whether a request is one the HTTP toxic is for: its method (any when unset) and path prefix (any when unset). Pure. */
export function requestMatches(rule, method, url) {
  if (rule.method && rule.method.toUpperCase() !== String(method).toUpperCase()) return false;
  if (rule.path && !String(url).startsWith(rule.path)) return false;
  return true;
}

const HOLD_BYTES = 1 << 20;

/**
 * Forwards `src` to `dst`, each chunk released at the time `schedule` gives (ms since epoch, in order), then `dst`
 * ended `closeDelayMs` after the last one. Pauses `src` while more than 1 MiB waits, and while `dst` is full.
 */
function toxicPipe(src, dst, schedule, closeDelayMs) {
  const queue = [];
  let held = 0;
  let last = 0;
  let timer;
  let ended = false;
  const pump = () => {
    timer = undefined;
    while (queue.length) {
      const head = queue[0];
      const wait = head.at - Date.now();
      if (wait > 0) {
        timer = setTimeout(pump, wait);
        return;
      }
      queue.shift();
      if (head.end) {
        dst.end();
        return;
      }
      held -= head.data.length;
      if (held < HOLD_BYTES && src.isPaused()) src.resume();
      if (!dst.write(head.data)) {
        dst.once('drain', pump);
        return;
      }
    }
  };
  const push = (item) => {
    item.at = Math.max(item.at, last);
    last = item.at;
    queue.push(item);
    if (!timer && queue.length === 1) pump();
  };
  src.on('data', (data) => {
    for (const piece of schedule(data, Math.max(Date.now(), last))) push({ data: data.subarray(piece.offset, piece.offset + piece.length), at: piece.at });
    held += data.length;
    if (held >= HOLD_BYTES) src.pause();
  });
  src.on('end', () => {
    if (ended) return;
    ended = true;
    push({ end: true, at: Math.max(Date.now(), last) + closeDelayMs });
  });
}

/** The release schedule of one direction, from its toxics (none: at once, as one piece). */
function scheduleFor(t) {
  const latency = t.latency && t.latency.ms + t.latency.jitter > 0 ? t.latency : undefined;
  return (data, from) => {
    const delay = latency ? chunkDelay(latency.ms, latency.jitter) : 0;
    if (!t.bandwidth) return [{ offset: 0, length: data.length, at: Date.now() + delay }];
    return paceSlices(data.length, t.bandwidth, Math.max(from, Date.now() + delay));
  };
}

function upstreamHost(config, socket) {
  if (config.upstreamHost) return config.upstreamHost;
  const local = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return local === '::1' ? '127.0.0.1' : local;
}

function reset(socket) {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** One TCP connection: its toxics apply when a draw falls under the ratio; otherwise it is a plain pipe. */
function handleTcp(config, client) {
  const toxic = Math.random() < config.ratio ? config.toxics : {};
  if (toxic.timeout) {
    // Blackhole: nothing passes either way; the connection is closed after the timeout (0: held until it ends).
    client.on('data', () => undefined);
    client.on('error', () => undefined);
    if (toxic.timeout.ms > 0) setTimeout(() => client.destroy(), toxic.timeout.ms);
    return;
  }
  if (toxic.reset && toxic.reset.afterMs <= 0) {
    // At once: before any upstream connect, or a server that speaks first (MariaDB's greeting) could slip through
    // before a zero-delay timer fires.
    client.on('error', () => undefined);
    reset(client);
    return;
  }
  const upstream = net.connect({ host: upstreamHost(config, client), port: config.upstreamPort });
  upstream.setNoDelay(true);
  client.setNoDelay(true);
  const fail = () => {
    reset(client);
    upstream.destroy();
  };
  client.on('error', fail);
  upstream.on('error', fail);
  client.on('close', () => upstream.destroy());
  if (toxic.reset) setTimeout(fail, toxic.reset.afterMs);
  const down = toxic.down ?? {};
  const up = toxic.up ?? {};
  const plain = (t) => !(t.latency && t.latency.ms + t.latency.jitter > 0) && !t.bandwidth;
  if (plain(up)) client.pipe(upstream);
  else toxicPipe(client, upstream, scheduleFor(up), 0);
  if (plain(down) && !toxic.slowClose) upstream.pipe(client);
  else toxicPipe(upstream, client, scheduleFor(down), toxic.slowClose?.ms ?? 0);
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

/** HTTP/1.1 in front of a plain HTTP service: each request may be aborted, delayed or reset. */
function httpServer(config) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const rule = config.http;
  return http.createServer((req, res) => {
    const hit = requestMatches(rule, req.method, req.url) && Math.random() < config.ratio;
    if (hit && rule.action === 'abort') {
      req.resume();
      res.writeHead(rule.status, { 'content-type': 'text/plain', 'x-faultline-fault': 'http-abort' });
      res.end(`faultline: aborted with ${rule.status}\n`);
      return;
    }
    if (hit && rule.action === 'reset') {
      reset(req.socket);
      return;
    }
    const forward = () => {
      const headers = { ...req.headers };
      for (const h of HOP_BY_HOP) delete headers[h];
      const up = http.request(
        { host: upstreamHost(config, req.socket), port: config.upstreamPort, method: req.method, path: req.url, headers, agent },
        (ur) => {
          const out = { ...ur.headers };
          for (const h of HOP_BY_HOP) delete out[h];
          res.writeHead(ur.statusCode ?? 502, out);
          ur.pipe(res);
        },
      );
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end();
      });
      req.pipe(up);
    };
    if (hit && rule.action === 'delay') setTimeout(forward, rule.delayMs);
    else forward();
  });
}

export function start(config) {
  const server = config.mode === 'http' ? httpServer(config) : net.createServer((c) => handleTcp(config, c));
  server.keepAliveTimeout = 65_000;
  server.listen({ port: config.listen, host: config.listenHost ?? '0.0.0.0' }, () => {
    // Below root once listening: the redirect of local traffic leaves out this uid, so the proxy's own connections
    // to the service are never diverted back to it.
    if (config.uid !== undefined && process.getuid?.() === 0) {
      process.setgid(config.uid);
      process.setuid(config.uid);
    }
    console.log(`listening ${server.address().port}`);
  });
  if (config.exitAfterMs > 0) setTimeout(() => process.exit(0), config.exitAfterMs).unref();
  return server;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const config = JSON.parse(process.env.PROXY_CONFIG ?? process.argv[2] ?? '{}');
  start(config);
  process.on('SIGTERM', () => process.exit(0));
}
