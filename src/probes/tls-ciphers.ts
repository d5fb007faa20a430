// Which cipher suites a server accepts, per protocol version: each suite offered alone, with a full handshake
// when this Node's OpenSSL can offer it and a bare ClientHello when it cannot (3DES, RC4, DES, EXPORT …), a
// few at a time, each with a short timeout, the whole scan within a time budget.

import tls from 'node:tls';
import { handshake, helloOffer, type HandshakeResult } from '../util/tls-handshake.js';
import { SUITES, TLS13_SUITES, TLS_VERSIONS, type AcceptedByVersion, type AcceptedSuite, type CipherSuite, type TlsVersion } from './tls-suites.js';

export interface CipherScan {
  /** Accepted suites per version, in the table's order; empty for a version that was not enumerated. */
  accepted: AcceptedByVersion;
  /** The versions enumerated: those the server accepts at all (a refused version has no suites to find). */
  versions: TlsVersion[];
  /** Connections made: full handshakes and bare ClientHellos. */
  handshakes: number;
  hellos: number;
  /** Suites neither accepted nor refused (timeouts, connection errors, the budget ran out), the first few of them. */
  undecided: { version: TlsVersion; name: string; error: string }[];
  undecidedCount: number;
  /** False when the budget ran out before every suite was tried. */
  complete: boolean;
  ms: number;
}

export interface CipherScanOptions {
  host: string;
  port: number;
  servername: string;
  versions: readonly TlsVersion[];
  /** Connections at a time (default 8): enough to finish in seconds, few enough not to look like a flood. */
  concurrency?: number;
  /** Per connection (default 2000 ms). */
  timeoutMs?: number;
  /** For the whole scan (default 20 s); suites not tried by then are undecided and the scan incomplete. */
  budgetMs?: number;
  signal: AbortSignal;
}

/** A refusal is the server's when it alerts or hangs up; anything else (timeout, refused connection) is undecided. */
export function isServerRefusal(hs: Pick<HandshakeResult, 'error' | 'errorMessage'>): boolean {
  return /ALERT|ECONNRESET|WRONG_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS/i.test(`${hs.error ?? ''} ${hs.errorMessage ?? ''}`);
}

const offerable = new Map<string, boolean>();

/** Whether this Node's OpenSSL can put the suite in a ClientHello (cached; OpenSSL 3 builds leave some out). */
export function nodeCanOffer(name: string): boolean {
  let ok = offerable.get(name);
  if (ok === undefined) {
    try {
      tls.createSecureContext({ ciphers: name.startsWith('TLS_') ? name : `${name}:@SECLEVEL=0` });
      ok = true;
    } catch {
      ok = false;
    }
    offerable.set(name, ok);
  }
  return ok;
}

/** The table, plus any name tls.getCiphers() lists that the table lacks (a newer OpenSSL); no PSK or SRP. */
function knownSuites(): CipherSuite[] {
  const names = new Set(SUITES.map((s) => s.name));
  const extra = tls
    .getCiphers()
    .map((c) => c.toUpperCase())
    .filter((c) => !names.has(c) && !c.startsWith('TLS_') && !/PSK|SRP/.test(c))
    .map((name) => ({ code: null, name, iana: null, tls12Only: true }));
  return [...SUITES, ...extra];
}

/** What is worth offering at a version: TLS 1.3 its five suites; TLS 1.0/1.1 nothing defined for TLS 1.2 only. */
export function candidatesFor(version: TlsVersion, suites: readonly CipherSuite[] = knownSuites()): CipherSuite[] {
  if (version === 'TLSv1.3') return [...TLS13_SUITES];
  return suites.filter((s) => version === 'TLSv1.2' || !s.tls12Only);
}

type Trial = { outcome: 'accepted' | 'refused' | 'error' | 'skipped'; detail: string | null; via: AcceptedSuite['via']; standardName: string | null };

async function trySuite(o: CipherScanOptions, version: TlsVersion, s: CipherSuite, timeoutMs: number, signal: AbortSignal): Promise<Trial> {
  if (nodeCanOffer(s.name)) {
    const ciphers = version === 'TLSv1.3' ? s.name : `${s.name}:@SECLEVEL=0`;
    const hs = await handshake({ host: o.host, port: o.port, servername: o.servername, minVersion: version, maxVersion: version, ciphers, timeoutMs, signal });
    if (hs.ok) return { outcome: 'accepted', detail: null, via: 'handshake', standardName: hs.cipher?.standardName ?? s.iana };
    // The client's own "nothing to offer" (a suite this version cannot carry) says nothing about the server.
    if (/NO_CIPHERS_AVAILABLE|NO_CIPHER_MATCH/.test(hs.error ?? ''))
      return { outcome: 'skipped', detail: hs.error ?? null, via: 'handshake', standardName: null };
    return { outcome: isServerRefusal(hs) ? 'refused' : 'error', detail: hs.error ?? null, via: 'handshake', standardName: null };
  }
  if (s.code === null || version === 'TLSv1.3') return { outcome: 'skipped', detail: 'cannot be offered', via: 'hello', standardName: null };
  const r = await helloOffer({ host: o.host, port: o.port, servername: o.servername, version, suite: s.code, timeoutMs, signal });
  return { outcome: r.outcome, detail: r.detail, via: 'hello', standardName: s.iana };
}

/** accepted: handshake completed; refused: the server sent an alert or closed; error: anything else (timeout …). */
export interface VersionResult {
  version: TlsVersion;
  outcome: 'accepted' | 'refused' | 'error';
  detail: string | null;
}

export async function tryVersion(host: string, port: number, servername: string, version: TlsVersion, signal: AbortSignal): Promise<VersionResult> {
  const hs = await handshake({ host, port, servername, minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0', timeoutMs: 3000, signal });
  if (hs.ok) return { version, outcome: 'accepted', detail: hs.cipher?.name ?? null };
  return { version, outcome: isServerRefusal(hs) ? 'refused' : 'error', detail: hs.error ?? null };
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function inPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Hard bound on connections per scan, whatever the table grows to. */
export const MAX_SCAN_CONNECTIONS = 400;

export async function scanCiphers(o: CipherScanOptions): Promise<CipherScan> {
  const t0 = performance.now();
  const timeoutMs = o.timeoutMs ?? 2000;
  // A timer of our own, not AbortSignal.timeout: inside AbortSignal.any, Node 20 may collect the timeout signal
  // before it fires (nodejs/node#57736), and the scan then ran past its budget (75 s for 300 ms, under load).
  const stop = new AbortController();
  const onAbort = () => stop.abort(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });
  if (o.signal.aborted) onAbort();
  const timer = setTimeout(() => stop.abort(new Error('cipher scan budget spent')), o.budgetMs ?? 20_000);
  const budget = stop.signal;
  const versions = TLS_VERSIONS.filter((v) => o.versions.includes(v));
  const suites = knownSuites();
  const tasks = versions.flatMap((version) => candidatesFor(version, suites).map((suite) => ({ version, suite }))).slice(0, MAX_SCAN_CONNECTIONS);
  const results: (Trial | null)[] = tasks.map(() => null);
  try {
    await inPool(
      tasks.map((_, i) => i),
      o.concurrency ?? 8,
      async (i) => {
        if (budget.aborted) return;
        results[i] = await trySuite(o, tasks[i]!.version, tasks[i]!.suite, timeoutMs, budget);
      },
    );
  } finally {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onAbort);
  }
  o.signal.throwIfAborted();
  const accepted = Object.fromEntries(TLS_VERSIONS.map((v) => [v, [] as AcceptedSuite[]])) as AcceptedByVersion;
  const undecided: CipherScan['undecided'] = [];
  let undecidedCount = 0;
  let handshakes = 0;
  let hellos = 0;
  tasks.forEach(({ version, suite }, i) => {
    const r = results[i];
    if (r && r.outcome !== 'skipped') {
      if (r.via === 'hello') hellos += 1;
      else handshakes += 1;
    }
    if (r?.outcome === 'accepted') accepted[version].push({ code: suite.code, name: suite.name, standardName: r.standardName, via: r.via });
    else if (!r || r.outcome === 'error') {
      undecidedCount += 1;
      if (undecided.length < 10) undecided.push({ version, name: suite.name, error: r?.detail ?? 'not tried: the scan ran out of time' });
    }
  });
  return {
    accepted,
    versions,
    handshakes,
    hellos,
    undecided,
    undecidedCount,
    complete: results.every((r) => r !== null),
    ms: Math.round(performance.now() - t0),
  };
}
