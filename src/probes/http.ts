// HTTP probe: one request and a verdict (status, body regex, latency bound), with no plugin. It sends only where
// faultline may send traffic: loopback, the stack's own endpoint (checked when the stack was attached) or one of its
// containers. Facts are gathered with util/http.ts; the status grammar, the target and the verdict are pure.

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FaultlineError, invalidInput } from '../errors.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { request } from '../util/http.js';
import { isLoopbackHost } from '../util/remote-target.js';
import { booleanField, durationField } from './params.js';
import { observation, startMark } from './runner.js';
import { stackServers } from './targets.js';
import { reachUrl } from '../swarm/vantage.js';
import type { Finding, Observation, Probe } from './types.js';

/** Accepted statuses: inclusive ranges, and the words they were written in (for messages). */
export interface StatusSpec {
  ranges: Array<[number, number]>;
  text: string;
}

/** "200", "2xx", "200-299", "200,301" (or a list of these) to ranges; null when any part is none of these. Pure. */
export function parseStatusSpec(input: unknown): StatusSpec | null {
  const parts = (Array.isArray(input) ? input : [input]).flatMap((p) => (typeof p === 'string' ? p.split(',') : [p]));
  const ranges: Array<[number, number]> = [];
  for (const part of parts) {
    const s = String(part).trim().toLowerCase();
    const xx = /^([1-5])xx$/.exec(s);
    const span = /^(\d{3})\s*(?:-|\.\.)\s*(\d{3})$/.exec(s);
    if (xx) ranges.push([Number(xx[1]) * 100, Number(xx[1]) * 100 + 99]);
    else if (span && Number(span[1]) <= Number(span[2])) ranges.push([Number(span[1]), Number(span[2])]);
    else if (/^\d{3}$/.test(s)) ranges.push([Number(s), Number(s)]);
    else return null;
  }
  if (!ranges.length || ranges.some(([a, b]) => a < 100 || b > 599)) return null;
  return { ranges, text: parts.map((p) => String(p).trim()).join(', ') };
}

export function statusMatches(spec: StatusSpec, status: number): boolean {
  return spec.ranges.some(([a, b]) => status >= a && status <= b);
}

const statusField = z.unknown().transform((v, ctx) => {
  const spec = parseStatusSpec(v);
  if (!spec) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} is not a status (e.g. 200, "2xx", "200-299", [200, 301])` });
    return z.NEVER;
  }
  return spec;
});

const regexField = z.string().transform((v, ctx) => {
  const m = /^\/(.+)\/([imsu]*)$/.exec(v);
  try {
    return m ? new RegExp(m[1]!, m[2]) : new RegExp(v);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} is not a regular expression: ${(err as Error).message}` });
    return z.NEVER;
  }
});

/** Headers as a file writes them (a map) or the command line does ("name: value; name: value"). */
const headersField = z.union([z.record(z.string(), z.union([z.string(), z.number()])), z.string()]).transform((v, ctx) => {
  if (typeof v !== 'string') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
  const out: Record<string, string> = {};
  for (const pair of v.split(/[;\n]/).filter((p) => p.trim())) {
    const colon = pair.indexOf(':');
    if (colon <= 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(pair.trim())} is not "name: value"` });
      return z.NEVER;
    }
    out[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim();
  }
  return out;
});

const params = z
  .object({
    url: z.string().min(1).optional().describe('absolute URL, or a path on the stack endpoint (default: the endpoint)'),
    path: z.string().startsWith('/', 'must start with /').optional().describe('path on the endpoint or on url'),
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, 'must be an HTTP method')
      .transform((m) => m.toUpperCase())
      .default('GET'),
    headers: headersField.optional(),
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    status: statusField.default('2xx,3xx').describe('expected status: 200, "2xx", "200-299", a list'),
    body_match: regexField.optional().describe('a regex the body must match'),
    max_latency: durationField({ min: 1, max: 600_000 }).optional().describe('slower answers fail (e.g. 500ms)'),
    timeout: durationField({ min: 1, max: 600_000 }).default('10s'),
    ca: z.string().min(1).optional().describe("PEM file to verify https against (default: the endpoint's CA)"),
    insecure: booleanField.optional(),
  })
  .strict()
  .refine((p) => !(p.ca && p.insecure), { message: 'give either ca or insecure, not both', path: ['insecure'] })
  // Found when the file is validated, not mid-run: the endpoint is the only unknown left for resolveTarget.
  .refine((p) => p.url === undefined || p.url.startsWith('/') || /^https?:\/\/[^/]/i.test(p.url), {
    message: 'must be an http:// or https:// URL, or a path starting with /',
    path: ['url'],
  })
  .refine((p) => !(p.url?.startsWith('/') && p.path !== undefined), { message: 'give a path either as url or as path, not both', path: ['path'] });

type Params = z.output<typeof params>;

export interface HttpValue {
  /** null when no answer came (connection error, timeout). */
  status: number | null;
  latencyMs: number;
  bodyBytes: number;
  /** Whether the body matched body_match; null without body_match or without an answer. */
  matched: boolean | null;
}

/** What one request gave: an answer, or an error code. */
export interface HttpFacts {
  status: number | null;
  latencyMs: number;
  body: string;
  error: { code: string; message: string } | null;
}

/** The URL the probe asks (pure): `url` when absolute (with `path` resolved on it), else a path on the endpoint. */
export function resolveTarget(p: Pick<Params, 'url' | 'path'>, endpoint: string): URL {
  const base = endpoint.replace(/\/+$/, '');
  const relative = p.url === undefined || p.url.startsWith('/');
  if (relative && p.url !== undefined && p.path !== undefined) throw invalidInput('path', 'give a path either as url or as path, not both');
  let u: URL;
  try {
    u = relative ? new URL(`${base}${p.url ?? p.path ?? '/'}`) : p.path ? new URL(p.path, p.url) : new URL(p.url!);
  } catch {
    throw invalidInput('url', `${JSON.stringify(p.url ?? p.path)} is not a URL or a path starting with /`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalidInput('url', `the http probe needs an http:// or https:// URL, got ${u.protocol}//`);
  return u;
}

/** Whether a target may be asked without looking at containers (pure): loopback, or one of the stack's own entries (their origins). */
export function knownSafe(target: URL, stackEntries: readonly string[]): boolean {
  return isLoopbackHost(target.hostname) || stackEntries.some((e) => new URL(e).origin === target.origin);
}

/** Refuses any target that is not loopback, the stack's endpoint or one of its containers, before a byte is sent. */
async function checkTarget(stack: AttachedStack, target: URL): Promise<void> {
  const origins = [stack.httpsUrl, stack.httpUrl].map((u) => new URL(u).origin);
  // The endpoint and the plain-HTTP entry passed the loopback rule (or --allow-remote-target) when the stack was attached.
  if (knownSafe(target, origins)) return;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const servers = await stackServers(stack).catch(() => []);
  if (servers.some((s) => s.internal === host || s.edge === host)) return;
  throw new FaultlineError(
    'UNSAFE_TARGET',
    `url: ${target.hostname} is not a loopback address, the stack's endpoint (${origins.join(', ')}) or one of its containers; the http probe sends nothing elsewhere`,
  );
}

/** The verdict (pure): each check that failed is one finding. */
export function judgeHttp(f: HttpFacts, p: Pick<Params, 'status' | 'body_match' | 'max_latency' | 'timeout'>): { value: HttpValue; findings: Finding[] } {
  const value: HttpValue = {
    status: f.status,
    latencyMs: Math.round(f.latencyMs * 10) / 10,
    bodyBytes: Buffer.byteLength(f.body),
    matched: f.status !== null && p.body_match ? p.body_match.test(f.body) : null,
  };
  const findings: Finding[] = [];
  if (f.error) {
    const timedOut = f.error.code === 'ETIMEDOUT';
    findings.push({
      id: timedOut ? 'timeout' : 'request-failed',
      severity: 'high',
      message: timedOut ? `no answer within timeout ${p.timeout} ms` : `${f.error.code}: ${f.error.message}`,
    });
    return { value, findings };
  }
  if (f.status !== null && !statusMatches(p.status, f.status))
    findings.push({ id: 'status', severity: 'high', message: `status ${f.status}, expected ${p.status.text}` });
  if (value.matched === false)
    findings.push({ id: 'body-mismatch', severity: 'high', message: `body (${value.bodyBytes} bytes) does not match ${String(p.body_match)}` });
  if (p.max_latency !== undefined && f.latencyMs > p.max_latency)
    findings.push({ id: 'too-slow', severity: 'medium', message: `answered in ${Math.round(f.latencyMs)} ms, over max_latency ${p.max_latency} ms` });
  return { value, findings };
}

async function readCa(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw invalidInput('ca', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** TLS for the target: the params' CA or insecure, else the endpoint's; the endpoint's SNI only on the endpoint itself. */
async function tlsFor(stack: AttachedStack, target: URL, p: Params): Promise<{ ca?: string; insecure?: boolean; servername?: string }> {
  if (target.protocol !== 'https:') return {};
  if (p.ca) return { ca: await readCa(p.ca) };
  if (p.insecure !== undefined) return { insecure: p.insecure };
  const endpoint = stack.tlsOptions(stack.spec.endpoint.insecure ? undefined : await stack.ca());
  const same = target.origin === new URL(stack.httpsUrl).origin;
  return {
    ...(endpoint.ca ? { ca: endpoint.ca } : {}),
    ...(endpoint.insecure ? { insecure: true } : {}),
    ...(same && endpoint.servername ? { servername: endpoint.servername } : {}),
  };
}

/** One request, timed from the send to the last byte of the body; a failure to answer is a fact, not an exception. */
async function ask(target: URL, p: Params, tls: Awaited<ReturnType<typeof tlsFor>>, signal: AbortSignal): Promise<HttpFacts> {
  const body = p.body === undefined ? undefined : typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
  const t0 = performance.now();
  try {
    const res = await request(target.href, {
      method: p.method,
      ...(body !== undefined ? { body } : {}),
      ...(p.headers ? { headers: p.headers } : {}),
      ...tls,
      timeoutMs: p.timeout,
      signal: AbortSignal.any([signal, AbortSignal.timeout(p.timeout)]),
    });
    return { status: res.status, latencyMs: performance.now() - t0, body: res.body, error: null };
  } catch (err) {
    signal.throwIfAborted();
    const e = err as NodeJS.ErrnoException;
    const code = e.name === 'AbortError' || e.name === 'TimeoutError' ? 'ETIMEDOUT' : (e.code ?? 'EREQUEST');
    return { status: null, latencyMs: performance.now() - t0, body: '', error: { code, message: e.message } };
  }
}

function renderHttp(o: Observation<HttpValue>): string[] {
  const d = o.details as { method: string; url: string; expect: string; bodyMatch?: string; maxLatencyMs?: number };
  const v = o.value;
  const answer = v.status === null ? 'no answer' : `${v.status} in ${v.latencyMs} ms, ${v.bodyBytes} bytes`;
  const checks = [`status ${d.expect}`, ...(d.bodyMatch ? [`body ${d.bodyMatch}${v.matched === null ? '' : v.matched ? ' matched' : ' NOT matched'}`] : [])];
  if (d.maxLatencyMs !== undefined) checks.push(`within ${d.maxLatencyMs} ms`);
  return [`${d.method} ${d.url} → ${answer}`, `expected: ${checks.join(', ')}`];
}

export const httpProbe: Probe<Params, HttpValue> = {
  name: 'http',
  description: 'one HTTP(S) request to the stack (or loopback): status, body regex, latency bound',
  params,
  render: renderHttp,
  // A step's tolerance is matched against the status; body_match and max_latency are checked by the probe's own verdict.
  headline: (v) => v.status,
  async run(ctx, p, signal): Promise<Observation<HttpValue>> {
    const started = startMark();
    const target = resolveTarget(p, ctx.stack.httpsUrl);
    await checkTarget(ctx.stack, target);
    // A task's address on a swarm stack is dialled through faultline's vantage there; the details keep the URL asked for.
    const facts = await ask(await reachUrl(ctx.stack, target, signal), p, await tlsFor(ctx.stack, target, p), signal);
    const j = judgeHttp(facts, p);
    return observation('http', started, {
      value: j.value,
      tolerance: null,
      passed: j.findings.length === 0,
      details: {
        method: p.method,
        url: target.href,
        expect: p.status.text,
        ...(p.body_match ? { bodyMatch: String(p.body_match) } : {}),
        ...(p.max_latency !== undefined ? { maxLatencyMs: p.max_latency } : {}),
        ...(facts.error ? { error: facts.error } : {}),
      },
      findings: j.findings,
    });
  },
};
