// Proxy faults: a userspace proxy in the target server's network namespace (proxy-helper.ts) takes over one port and
// forwards to the real service with a toxic, Toxiproxy-style per connection (latency, bandwidth, slow close, reset,
// timeout) or per HTTP request on a plain HTTP hop (abort with a status, delay, reset; a share of requests, a path
// prefix and a method). Needs no netem and nothing in the target's image. Revert removes the redirect first
// (new connections reach the real service again), then the helper; the helper's own switch does the same.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { durationMs, integer } from './params.js';
import { resolvePeers } from './net-peers.js';
import { proxyConfigSchema, diversionSchema, PROXY_UID, type ProxyConfig } from './proxy-config.js';
import { drawProxyPort, proxyActive, readFirewall, revertProxies, startProxy, type ProxyServer } from './proxy-helper.js';
import { resolveServers, toRef } from './targets.js';
import type { FaultDefinition } from './types.js';

/** A share: "30%" or a fraction 0–1 ("0.3"); a bare number above 1 is refused rather than guessed at. */
export const shareField = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = String(v).trim();
  const pct = text.endsWith('%');
  const n = Number(pct ? text.slice(0, -1) : text);
  const share = pct ? n / 100 : n;
  if (text === '' || !Number.isFinite(n) || share < 0 || share > 1) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} must be a share: 30% or 0.3` });
    return z.NEVER;
  }
  return share;
});

/** Bytes per second: 1000000, 500k, 1M, 1MB (decimal units: 1 MB/s is 1 000 000 bytes each second). */
export const rateField = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG])?[bB]?(?:\/s)?\s*$/.exec(String(v));
  const mult = { k: 1e3, m: 1e6, g: 1e9 }[(m?.[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  const rate = m ? Math.round(Number(m[1]) * mult) : NaN;
  if (!Number.isFinite(rate) || rate < 1 || rate > 10_000_000_000) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} must be bytes per second, e.g. 1MB or 500k` });
    return z.NEVER;
  }
  return rate;
});

const port = integer(1, 65535).describe('(the port to take over on the target, e.g. 80 or 3306)');
const peer = z.string().min(1).optional().describe('(divert only connections from these servers, e.g. role=lb)');
const ratio = shareField.default('100%').describe('(share of connections)');
const stream = z.enum(['down', 'up', 'both']).default('down').describe('(down: what the service sends; up: what it receives)');

const common = { port, peer, ratio };
const httpCommon = {
  port: integer(1, 65535).default(80).describe('(a plain HTTP port of the target)'),
  peer,
  ratio: shareField.default('100%').describe('(share of matching requests)'),
  path: z.string().startsWith('/', 'must start with /').max(512).optional().describe('(path prefix, e.g. /items)'),
  method: z
    .string()
    .regex(/^[A-Za-z]{1,16}$/, 'an HTTP method, e.g. POST')
    .transform((m) => m.toUpperCase())
    .optional(),
};

const dataSchema = z.object({
  config: proxyConfigSchema,
  servers: z.array(
    z.object({
      hostId: z.string().regex(/^[0-9a-f]{12,64}$/, 'a container id'),
      server: z.string(),
      diversion: diversionSchema,
      helperId: z.string().optional(),
    }),
  ),
});
type ProxyData = z.infer<typeof dataSchema>;

type Toxic<P> = (p: P) => {
  config: Omit<ProxyConfig, 'listen' | 'upstreamPort' | 'uid' | 'ratio' | 'toxics'> & Partial<Pick<ProxyConfig, 'toxics'>>;
  step: string;
};

function streams(which: 'down' | 'up' | 'both', t: { latency?: { ms: number; jitter: number }; bandwidth?: number }) {
  return { ...(which !== 'up' ? { down: t } : {}), ...(which !== 'down' ? { up: t } : {}) };
}

/** A proxy fault: plan (targets, a proxy port each, peers), apply (firewall read, helper), revert, check. */
export function proxyFault<P extends { port: number; peer?: string | undefined; ratio: number }>(
  name: string,
  description: string,
  defaultTarget: string | undefined,
  params: z.ZodType<P, z.ZodTypeDef, unknown>,
  toxic: Toxic<P>,
): FaultDefinition<P, ProxyData> {
  return {
    name,
    kind: 'network',
    description,
    defaultTarget,
    params,
    data: dataSchema,
    async plan(ctx, target, p) {
      const expr = target ?? defaultTarget;
      if (!expr) throw new FaultlineError('INVALID_INPUT', 'target: required (e.g. --target server=db-primary --param port=3306)');
      const hosts = await resolveServers(ctx, expr);
      const peers = p.peer ? await resolvePeers(ctx, p.peer) : undefined;
      const tag = `fl_${Date.now().toString(36)}${Math.floor(ctx.random() * 1296).toString(36)}`;
      const { config: c, step } = toxic(p);
      const config = proxyConfigSchema.parse({ ...c, listen: 1, upstreamPort: p.port, uid: PROXY_UID, ratio: p.ratio });
      const servers = hosts.map((h) => ({
        hostId: h.id,
        server: h.server ?? h.name,
        diversion: { table: tag, port: p.port, proxyPort: drawProxyPort(ctx.random), peers: peers?.addresses ?? [] },
      }));
      const from = peers ? ` from ${peers.servers.map((s) => s.server ?? s.name).join(', ')}` : '';
      return {
        targets: hosts.map(toRef),
        steps: [
          `start the fault proxy (helper from the proxy image) in the network namespace of ${servers.map((s) => s.server).join(', ')}`,
          `divert tcp/${p.port}${from} to it (nft table inet ${tag}: redirect; the firewall admits diverted connections from whom it admits to ${p.port})`,
          `${step}${p.ratio < 1 ? ` for ${Math.round(p.ratio * 1000) / 10}% of ${config.mode === 'http' ? 'matching requests' : 'connections'}` : ''}`,
          'revert: remove the redirect (new connections reach the service again), then the helper',
        ],
        slots: servers.map((s) => `${s.server}:proxy:${p.port}`),
        data: { config, servers },
      };
    },
    async apply(ctx, record, update, signal) {
      const servers: ProxyServer[] = record.data.servers.map((s) => ({ ...s }));
      const save = () => update({ servers: servers.map((s) => ({ ...s })) as ProxyData['servers'] });
      // The firewall's admissions are read first and recorded, so the revert knows which rules to look for.
      await Promise.all(
        servers.map(async (s) => {
          s.diversion = { ...s.diversion, firewall: await readFirewall(ctx, s.hostId, s.diversion.port, signal) };
        }),
      );
      await save();
      const outcomes = await Promise.allSettled(
        servers.map((s) =>
          startProxy(
            ctx,
            record.id,
            s,
            record.data.config,
            async (id) => {
              s.helperId = id;
              await save();
            },
            signal,
          ),
        ),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    },
    revert: (ctx, record, signal) => revertProxies(ctx, record.id, record.data.servers, signal),
    async check(ctx, record, signal) {
      const on = await Promise.all(record.data.servers.map((s) => proxyActive(ctx, record.id, s, signal)));
      const n = on.filter(Boolean).length;
      return { active: n === on.length, detail: `${n}/${on.length} servers divert ${record.data.servers[0]?.diversion.port ?? '?'} to the fault proxy` };
    },
  };
}

const latency = durationMs({ min: 0, max: 60_000 });

export const proxyFaults = [
  proxyFault(
    'proxy-latency',
    'delay what a service sends on one port, per chunk, with jitter (a proxy in its network namespace; no netem)',
    undefined,
    z.object({ ...common, delay: latency.default('200ms'), jitter: durationMs({ max: 60_000 }).default('0ms'), stream }).strict(),
    (p) => ({
      config: { mode: 'tcp', toxics: streams(p.stream, { latency: { ms: p.delay, jitter: p.jitter } }) },
      step: `delay each chunk ${p.stream === 'both' ? 'both ways' : p.stream === 'up' ? 'towards the service' : 'from the service'} by ${p.delay} ms ± ${p.jitter} ms`,
    }),
  ),
  proxyFault(
    'proxy-bandwidth',
    'limit one port of a service to a rate in bytes per second, per connection',
    undefined,
    z.object({ ...common, rate: rateField.default('1MB').describe('(bytes per second: 1MB, 500k)'), stream }).strict(),
    (p) => ({ config: { mode: 'tcp', toxics: streams(p.stream, { bandwidth: p.rate }) }, step: `pace each connection to ${p.rate} bytes/s (${p.stream})` }),
  ),
  proxyFault(
    'proxy-slow-close',
    "hold a connection open for a while after the service closed it (a peer's slow FIN)",
    undefined,
    z.object({ ...common, delay: durationMs({ min: 1, max: 600_000 }).default('5s') }).strict(),
    (p) => ({ config: { mode: 'tcp', toxics: { slowClose: { ms: p.delay } } }, step: `close each connection ${p.delay} ms after the service did` }),
  ),
  proxyFault(
    'proxy-reset',
    'reset connections to one port (TCP RST) at once or after a while',
    undefined,
    z.object({ ...common, after: durationMs({ max: 600_000 }).default('0ms').describe('(reset this long after the connection opened)') }).strict(),
    (p) => ({ config: { mode: 'tcp', toxics: { reset: { afterMs: p.after } } }, step: `reset each connection ${p.after} ms after it opened` }),
  ),
  proxyFault(
    'proxy-timeout',
    'blackhole connections to one port: accepted, then nothing passes (closed after timeout, 0: never)',
    undefined,
    z.object({ ...common, timeout: durationMs({ max: 3_600_000 }).default('0ms') }).strict(),
    (p) => ({
      config: { mode: 'tcp', toxics: { timeout: { ms: p.timeout } } },
      step: `pass nothing either way${p.timeout ? `, close after ${p.timeout} ms` : ''}`,
    }),
  ),
  proxyFault(
    'http-abort',
    'answer a share of plain-HTTP requests (path prefix, method) with a status instead of the service (default: web servers, port 80)',
    'all:role=web',
    z.object({ ...httpCommon, status: integer(100, 599).default(503) }).strict(),
    (p) => ({
      config: { mode: 'http', http: { action: 'abort', status: p.status, ...match(p) } },
      step: `answer ${describeMatch(p)} with ${p.status}`,
    }),
  ),
  proxyFault(
    'http-delay',
    'delay a share of plain-HTTP requests (path prefix, method) before they reach the service (default: web servers, port 80)',
    'all:role=web',
    z.object({ ...httpCommon, delay: durationMs({ min: 1, max: 600_000 }).default('1s') }).strict(),
    (p) => ({ config: { mode: 'http', http: { action: 'delay', delayMs: p.delay, ...match(p) } }, step: `delay ${describeMatch(p)} by ${p.delay} ms` }),
  ),
  proxyFault(
    'http-reset',
    'reset the connection of a share of plain-HTTP requests (path prefix, method) (default: web servers, port 80)',
    'all:role=web',
    z.object({ ...httpCommon }).strict(),
    (p) => ({ config: { mode: 'http', http: { action: 'reset', ...match(p) } }, step: `reset the connection of ${describeMatch(p)}` }),
  ),
];

function match(p: { path?: string | undefined; method?: string | undefined }) {
  return { ...(p.path ? { path: p.path } : {}), ...(p.method ? { method: p.method } : {}) };
}

function describeMatch(p: { path?: string | undefined; method?: string | undefined }): string {
  return `${p.method ?? 'every'} request${p.path ? ` under ${p.path}` : ''}`;
}
