// TLS probe of a public endpoint with Node's own TLS client: chain (against the endpoint's CA, or Node's default
// trust store), expiry, hostname, key, signature algorithm, each protocol version tried alone, the cipher suites
// accepted per version (tls-ciphers.ts), HSTS and the HTTP → HTTPS redirect; on the reference stack, plus
// (separately graded) whether hops inside the stack are encrypted.

import { isIP } from 'node:net';
import tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { request } from '../util/http.js';
import { handshake, signatureAlgorithm } from '../util/tls-handshake.js';
import { booleanField, numberField } from './params.js';
import { observation, startMark } from './runner.js';
import { atLeast, gradeAtLeast, gradeOf, gradeTolerance, GRADES, type Grade } from './grade.js';
import { gatherInternal, internalFindings, type InternalFacts } from './internal-encryption.js';
import { scanCiphers, tryVersion, type CipherScan, type VersionResult } from './tls-ciphers.js';
import { cipherFindings, TLS_VERSIONS, type TlsVersion } from './tls-suites.js';
import { stackTlsTarget, type TlsTarget } from './tls-target.js';
import { tlsDeclarations } from './tls-declarations.js';
import type { Finding, Observation, Probe, Severity } from './types.js';

export { TLS_VERSIONS, type TlsVersion } from './tls-suites.js';
export type { TlsTarget } from './tls-target.js';
export { tryVersion, type VersionResult } from './tls-ciphers.js';

export interface CertificateFacts {
  subject: string;
  issuer: string;
  subjectAltName: string | null;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  keyType: string | null;
  keyBits: number | null;
  curve: string | null;
  signatureAlgorithm: string | null;
  selfSigned: boolean;
}

export interface TlsFacts {
  host: string;
  port: number;
  servername: string;
  /** When the facts were gathered (ms since epoch), for days-to-expiry. */
  now: number;
  handshake: { ok: boolean; error: string | null; protocol: string | null; cipher: string | null; authorized: boolean; authorizationError: string | null };
  certificate: CertificateFacts | null;
  /** Hostnames checked against the certificate → null when it matches, else the reason. */
  hostnames: Record<string, string | null>;
  versions: VersionResult[];
  hsts: string | null;
  httpsStatus: number | null;
  redirect: { status: number | null; location: string | null; error: string | null };
  /** What the chain was verified against: the endpoint's CA, Node's default trust store, or nothing (insecure). */
  trust?: 'ca' | 'system' | 'none';
  /** The accepted cipher suites per version; absent when not enumerated (ciphers=false). */
  ciphers?: CipherScan;
}

/** The redirect's error when there is no HTTP entry to check. */
export const REDIRECT_NOT_CHECKED = 'not checked: no HTTP URL';

export function certificateFacts(x: X509Certificate): CertificateFacts {
  const key = x.publicKey;
  const details = key.asymmetricKeyDetails;
  return {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    subjectAltName: x.subjectAltName ?? null,
    validFrom: new Date(x.validFrom).toISOString(),
    validTo: new Date(x.validTo).toISOString(),
    fingerprint256: x.fingerprint256,
    keyType: key.asymmetricKeyType ?? null,
    keyBits: details?.modulusLength ?? (details?.namedCurve ? curveBits(details.namedCurve) : null),
    curve: details?.namedCurve ?? null,
    signatureAlgorithm: signatureAlgorithm(x),
    selfSigned: x.subject === x.issuer && x.checkIssued(x),
  };
}

function curveBits(curve: string): number | null {
  const m = /(\d{3})/.exec(curve);
  return m ? Number(m[1]) : null;
}

/** Connection errors that mean no TLS server was reached at all (not a TLS failure). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL']);

export interface GatherOptions {
  /** Enumerate the accepted cipher suites per version (a few hundred handshakes at most). */
  ciphers?: boolean;
  now?: number;
}

export async function gatherTls(t: TlsTarget, signal: AbortSignal, o: GatherOptions = {}): Promise<TlsFacts> {
  const now = o.now ?? Date.now();
  const hs = await handshake({ host: t.host, port: t.port, servername: t.servername, ...(t.ca ? { ca: t.ca } : {}), timeoutMs: 5000, signal });
  signal.throwIfAborted();
  const cert = hs.certificate ?? null;
  const hostnames: Record<string, string | null> = {};
  if (cert) {
    const legacy = cert.toLegacyObject();
    for (const name of t.hostnames) hostnames[name] = tls.checkServerIdentity(name, legacy)?.message ?? null;
  }
  // Nothing listening (or no route): every further look at the HTTPS port would only wait out its own timeout.
  const gone = !hs.ok && UNREACHABLE.has(hs.error ?? '');
  const versions: VersionResult[] = [];
  for (const v of TLS_VERSIONS)
    versions.push(gone ? { version: v, outcome: 'error', detail: hs.error ?? null } : await tryVersion(t.host, t.port, t.servername, v, signal));
  const accepted = versions.filter((v) => v.outcome === 'accepted').map((v) => v.version);
  const ciphers = o.ciphers && hs.ok ? await scanCiphers({ host: t.host, port: t.port, servername: t.servername, versions: accepted, signal }) : undefined;
  let hsts: string | null = null;
  let httpsStatus: number | null = null;
  if (!gone)
    try {
      // Verification off here on purpose: a broken chain is already reported; HSTS is still worth knowing.
      const res = await request(`${t.httpsUrl}/`, { insecure: true, ...(isIP(t.servername) ? {} : { servername: t.servername }), timeoutMs: 5000, signal });
      httpsStatus = res.status;
      const h = res.headers['strict-transport-security'];
      hsts = Array.isArray(h) ? h.join(', ') : (h ?? null);
    } catch (err) {
      if (signal.aborted) throw err;
    }
  let redirect: TlsFacts['redirect'] = { status: null, location: null, error: REDIRECT_NOT_CHECKED };
  if (t.httpUrl) {
    try {
      const res = await request(`${t.httpUrl}/`, { timeoutMs: 5000, signal });
      const loc = res.headers.location;
      redirect = { status: res.status, location: typeof loc === 'string' ? loc : null, error: null };
    } catch (err) {
      if (signal.aborted) throw err;
      redirect = { status: null, location: null, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  }
  return {
    host: t.host,
    port: t.port,
    servername: t.servername,
    now,
    handshake: {
      ok: hs.ok,
      error: hs.ok ? null : (hs.error ?? 'error'),
      protocol: hs.protocol,
      cipher: hs.cipher ? (hs.cipher.standardName ?? hs.cipher.name) : null,
      authorized: hs.authorized,
      authorizationError: hs.authorizationError,
    },
    certificate: cert ? certificateFacts(cert) : null,
    hostnames,
    versions,
    hsts,
    httpsStatus,
    redirect,
    trust: t.insecure ? 'none' : t.ca ? 'ca' : 'system',
    ...(ciphers ? { ciphers } : {}),
  };
}

/** TARGET_UNREACHABLE when the endpoint could not be reached at all; null when something answered (pure). */
export function unreachableError(f: Pick<TlsFacts, 'host' | 'port' | 'handshake'>): FaultlineError | null {
  const e = f.handshake.error;
  return !f.handshake.ok && e && UNREACHABLE.has(e) ? new FaultlineError('TARGET_UNREACHABLE', `${f.host}:${f.port}: no TLS server reached (${e})`) : null;
}

/** Why a chain does not verify, in words: an issuer nobody trusts, a self-signed certificate, a missing link. */
function untrustedReason(code: string, selfSigned: boolean): string {
  if (selfSigned || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') return 'self-signed certificate';
  if (code === 'SELF_SIGNED_CERT_IN_CHAIN') return 'untrusted issuer (self-signed CA in the chain)';
  if (/UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/.test(code)) return 'untrusted issuer (self-signed or private CA, or an incomplete chain)';
  return 'untrusted chain';
}

const DAY = 86_400_000;

/** Findings from the public endpoint's facts (pure). */
export function publicFindings(f: TlsFacts): Finding[] {
  const out: Finding[] = [];
  const where = `${f.host}:${f.port}`;
  const add = (id: string, severity: Severity, message: string) => out.push({ id, severity, message, where, scope: 'public' });
  if (!f.handshake.ok) add('handshake-failed', 'critical', `no TLS handshake: ${f.handshake.error}`);
  const c = f.certificate;
  if (c) {
    const daysLeft = (Date.parse(c.validTo) - f.now) / DAY;
    if (daysLeft < 0)
      add('cert-expired', 'critical', `certificate expired ${-daysLeft >= 1 ? `${Math.floor(-daysLeft)} day(s) ago` : 'less than a day ago'} (${c.validTo})`);
    else if (daysLeft < 14) add('cert-expiring', 'medium', `certificate expires in ${Math.floor(daysLeft)} day(s)`);
    else if (daysLeft < 30) add('cert-expiring', 'low', `certificate expires in ${Math.floor(daysLeft)} day(s)`);
    if (Date.parse(c.validFrom) > f.now) add('cert-not-yet-valid', 'critical', `certificate is valid only from ${c.validFrom}`);
    const authErr = f.handshake.authorizationError;
    // Expiry and name mismatches have findings of their own; Node also reports the latter as authorizationError.
    // With --insecure the chain is deliberately not judged; that choice is recorded as info.
    if (f.trust === 'none') add('cert-not-verified', 'info', 'chain not verified (insecure: an explicit choice)');
    else if (authErr && !['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID'].includes(authErr)) {
      const anchor = f.trust === 'system' ? "Node's default trust store" : "the endpoint's CA";
      add('cert-untrusted', 'critical', `${untrustedReason(authErr, c.selfSigned)}: the chain does not verify against ${anchor} (${authErr})`);
    }
    for (const [name, err] of Object.entries(f.hostnames)) if (err) add('hostname-mismatch', 'critical', `certificate not valid for ${name}: ${err}`);
    if (c.keyType === 'rsa' && c.keyBits !== null && c.keyBits < 2048) add('weak-key', 'high', `RSA key of ${c.keyBits} bits (< 2048)`);
    if (c.keyType === 'ec' && c.keyBits !== null && c.keyBits < 256) add('weak-key', 'high', `EC key of ${c.keyBits} bits (< 256)`);
    if (c.signatureAlgorithm && /md5|sha1/i.test(c.signatureAlgorithm)) add('weak-signature', 'high', `certificate signed with ${c.signatureAlgorithm}`);
  }
  for (const v of f.versions) {
    if ((v.version === 'TLSv1' || v.version === 'TLSv1.1') && v.outcome === 'accepted')
      add('legacy-protocol', 'high', `${v.version} is accepted (cipher ${v.detail})`);
    if (v.version === 'TLSv1.2' && v.outcome !== 'accepted' && f.handshake.ok && f.versions.find((x) => x.version === 'TLSv1.3')?.outcome !== 'accepted')
      add('no-modern-protocol', 'critical', 'neither TLS 1.2 nor 1.3 is accepted');
    if (v.version === 'TLSv1.3' && v.outcome !== 'accepted' && f.handshake.ok) add('no-tls13', 'low', `TLS 1.3 is not accepted (${v.detail})`);
    if (v.outcome === 'error') add('version-test-error', 'info', `${v.version} could not be tested: ${v.detail}`);
  }
  const cipher = f.handshake.cipher ?? '';
  // What a default client gets: worth its own finding even when the enumeration lists the suite too.
  if (f.handshake.ok && f.handshake.protocol !== 'TLSv1.3' && !/ECDHE|DHE/.test(cipher))
    add('no-forward-secrecy', 'medium', `negotiated cipher ${cipher} has no forward secrecy`);
  if (f.ciphers) {
    out.push(...cipherFindings(f.ciphers.accepted, where));
    if (!f.ciphers.complete || f.ciphers.undecidedCount > 0)
      add(
        'cipher-scan-incomplete',
        'info',
        `${f.ciphers.undecidedCount} suite(s) undecided${f.ciphers.complete ? '' : ' (the scan ran out of time)'}, e.g. ${f.ciphers.undecided
          .map((u) => `${u.name} on ${u.version}: ${u.error}`)
          .slice(0, 3)
          .join('; ')}`,
      );
  } else if (/CBC|RC4|3DES|NULL|EXPORT/i.test(cipher)) add('weak-cipher', /RC4|NULL|EXPORT/i.test(cipher) ? 'high' : 'low', `negotiated cipher ${cipher}`);
  if (f.httpsStatus !== null) {
    if (!f.hsts) add('no-hsts', 'medium', 'no Strict-Transport-Security header on HTTPS answers');
    else {
      const age = Number(/max-age=(\d+)/i.exec(f.hsts)?.[1] ?? 0);
      if (age < 15_552_000) add('hsts-short', 'low', `HSTS max-age ${age} s is under 180 days`);
    }
  }
  const r = f.redirect;
  if (r.error === REDIRECT_NOT_CHECKED) return out;
  if (r.status === null) add('no-http-redirect', 'info', `HTTP port did not answer (${r.error})`);
  else if (!(r.status >= 301 && r.status <= 308 && r.location?.startsWith('https://')))
    add('no-http-redirect', 'medium', `HTTP answers ${r.status} without redirecting to HTTPS`);
  return out;
}

export interface TlsValue {
  grade: Grade;
  internalGrade: Grade | null;
  daysToExpiry: number | null;
  protocols: Record<string, VersionResult['outcome']>;
  /** Accepted suites per enumerated version (IANA names where known); absent when not enumerated. */
  ciphers?: Partial<Record<TlsVersion, string[]>>;
}

const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;

const params = z
  .object({
    /** Also inspect hops inside the stack (LB → web, web → database). */
    internal: booleanField.default(true),
    /** Whether internal findings count towards the verdict (by default they are graded separately). */
    failOnInternal: booleanField.default(false),
    minGrade: z.enum(GRADES).default('A'),
    /** The probe fails on any public finding at least this severe. */
    failOn: z.enum(severities).default('medium'),
    /** Warn when fewer days remain (a finding of its own). */
    minDays: numberField({ min: 0 }).default(14),
    /** Enumerate the accepted cipher suites per version (off for a quick look repeated during a fault). */
    ciphers: booleanField.default(true),
  })
  .strict();
export type TlsParams = z.infer<typeof params>;

/** Verdict from findings (pure). */
export function judgeTls(
  pub: Finding[],
  internal: Finding[] | null,
  p: Pick<TlsParams, 'minGrade' | 'failOn' | 'failOnInternal'>,
): { grade: Grade; internalGrade: Grade | null; passed: boolean } {
  const grade = gradeOf(pub);
  const internalGrade = internal ? gradeOf(internal) : null;
  const counted = p.failOnInternal && internal ? [...pub, ...internal] : pub;
  const passed =
    gradeAtLeast(grade, p.minGrade) &&
    (!p.failOnInternal || internalGrade === null || gradeAtLeast(internalGrade, p.minGrade)) &&
    !counted.some((f) => atLeast(f.severity, p.failOn));
  return { grade, internalGrade, passed };
}

/**
 * One look at a TLS endpoint, judged: the library call behind the probe, and behind `faultline probe tls <url>`
 * where there is no stack. `internal` gathers the inside of the stack when there is one to look at.
 */
export async function observeTls(t: TlsTarget, p: TlsParams, signal: AbortSignal, internal?: () => Promise<InternalFacts>): Promise<Observation<TlsValue>> {
  const started = startMark();
  const facts = await gatherTls(t, signal, { ciphers: p.ciphers });
  const pub = publicFindings(facts).map((f) =>
    f.id === 'cert-expiring' && facts.certificate && (Date.parse(facts.certificate.validTo) - facts.now) / DAY >= p.minDays
      ? { ...f, severity: 'info' as const }
      : f,
  );
  const inside = p.internal && internal ? await internal() : null;
  const intFindings = inside ? internalFindings(inside) : null;
  const j = judgeTls(pub, intFindings, p);
  const c = facts.certificate;
  const scan = facts.ciphers;
  return observation('tls', started, {
    value: {
      grade: j.grade,
      internalGrade: j.internalGrade,
      daysToExpiry: c ? Math.floor((Date.parse(c.validTo) - facts.now) / DAY) : null,
      protocols: Object.fromEntries(facts.versions.map((v) => [v.version, v.outcome])),
      ...(scan ? { ciphers: Object.fromEntries(scan.versions.map((v) => [v, scan.accepted[v].map((x) => x.standardName ?? x.name)])) } : {}),
    },
    tolerance: gradeTolerance(p.minGrade),
    passed: j.passed,
    details: { public: facts, ...(scan ? { ciphers: scan.accepted } : {}), ...(inside ? { internal: inside } : {}) },
    findings: [...pub, ...(intFindings ?? [])],
  });
}

export const tlsProbe: Probe<TlsParams, TlsValue> = {
  name: 'tls',
  description:
    'TLS of the public endpoint (chain, expiry, hostname, key, protocols, accepted cipher suites, HSTS, redirect) and, where the description says so (tls_inside), encryption inside the stack',
  params,
  ...tlsDeclarations,
  async run(ctx, p, signal): Promise<Observation<TlsValue>> {
    // The hops inside (LB → web servers over port 80, the MariaDB accounts app and repl) are a layout the
    // description vouches for with tls_inside; elsewhere the inside is not judged at all.
    const inside = ctx.stack.spec.tls_inside ? () => gatherInternal(ctx, signal) : undefined;
    return observeTls(await stackTlsTarget(ctx.stack), p, signal, inside);
  },
};
