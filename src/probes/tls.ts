// TLS probe of the public endpoint with Node's own TLS client: chain against the stack's CA, expiry,
// hostname, key, signature algorithm, each protocol version tried alone, negotiated cipher, HSTS and the
// HTTP → HTTPS redirect; plus (separately graded) whether hops inside the stack are encrypted.

import tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { request } from '../util/http.js';
import { handshake, signatureAlgorithm, type HandshakeResult } from '../util/tls-handshake.js';
import { booleanField, numberField } from './params.js';
import { observation, startMark } from './runner.js';
import { atLeast, gradeAtLeast, gradeOf, gradeTolerance, GRADES, type Grade } from './grade.js';
import { gatherInternal, internalFindings, type InternalFacts } from './internal-encryption.js';
import type { Finding, Observation, Probe, Severity } from './types.js';

export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** accepted: handshake completed; refused: the server sent an alert or closed; error: anything else (timeout …). */
export interface VersionResult {
  version: TlsVersion;
  outcome: 'accepted' | 'refused' | 'error';
  detail: string | null;
}

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
}

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

/** A refusal is the server's when it alerts or hangs up; the client allows every version and cipher. */
function isServerRefusal(hs: HandshakeResult): boolean {
  return /ALERT|ECONNRESET|WRONG_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS/i.test(`${hs.error ?? ''} ${hs.errorMessage ?? ''}`);
}

export async function tryVersion(host: string, port: number, servername: string, version: TlsVersion, signal: AbortSignal): Promise<VersionResult> {
  const hs = await handshake({ host, port, servername, minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0', timeoutMs: 3000, signal });
  if (hs.ok) return { version, outcome: 'accepted', detail: hs.cipher?.name ?? null };
  return { version, outcome: isServerRefusal(hs) ? 'refused' : 'error', detail: hs.error ?? null };
}

export interface TlsTarget {
  host: string;
  port: number;
  servername: string;
  ca: string;
  httpsUrl: string;
  httpUrl: string;
  /** Names the certificate must be valid for. */
  hostnames: string[];
}

export async function gatherTls(t: TlsTarget, signal: AbortSignal, now = Date.now()): Promise<TlsFacts> {
  const hs = await handshake({ host: t.host, port: t.port, servername: t.servername, ca: t.ca, timeoutMs: 5000, signal });
  signal.throwIfAborted();
  const cert = hs.certificate ?? null;
  const hostnames: Record<string, string | null> = {};
  if (cert) {
    const legacy = cert.toLegacyObject();
    for (const name of t.hostnames) hostnames[name] = tls.checkServerIdentity(name, legacy)?.message ?? null;
  }
  const versions: VersionResult[] = [];
  for (const v of TLS_VERSIONS) versions.push(await tryVersion(t.host, t.port, t.servername, v, signal));
  let hsts: string | null = null;
  let httpsStatus: number | null = null;
  try {
    // Verification off here on purpose: a broken chain is already reported; HSTS is still worth knowing.
    const res = await request(`${t.httpsUrl}/`, { insecure: true, timeoutMs: 5000, signal });
    httpsStatus = res.status;
    const h = res.headers['strict-transport-security'];
    hsts = Array.isArray(h) ? h.join(', ') : (h ?? null);
  } catch (err) {
    if (signal.aborted) throw err;
  }
  let redirect: TlsFacts['redirect'];
  try {
    const res = await request(`${t.httpUrl}/`, { timeoutMs: 5000, signal });
    const loc = res.headers.location;
    redirect = { status: res.status, location: typeof loc === 'string' ? loc : null, error: null };
  } catch (err) {
    if (signal.aborted) throw err;
    redirect = { status: null, location: null, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
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
  };
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
    if (authErr && !['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID'].includes(authErr)) {
      add('cert-untrusted', 'critical', `chain does not verify against the stack's CA: ${authErr}${c.selfSigned ? ' (self-signed)' : ''}`);
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
  if (f.handshake.ok && f.handshake.protocol !== 'TLSv1.3' && !/ECDHE|DHE/.test(cipher))
    add('no-forward-secrecy', 'medium', `negotiated cipher ${cipher} has no forward secrecy`);
  if (/CBC|RC4|3DES|NULL|EXPORT/i.test(cipher)) add('weak-cipher', /RC4|NULL|EXPORT/i.test(cipher) ? 'high' : 'low', `negotiated cipher ${cipher}`);
  if (f.httpsStatus !== null) {
    if (!f.hsts) add('no-hsts', 'medium', 'no Strict-Transport-Security header on HTTPS answers');
    else {
      const age = Number(/max-age=(\d+)/i.exec(f.hsts)?.[1] ?? 0);
      if (age < 15_552_000) add('hsts-short', 'low', `HSTS max-age ${age} s is under 180 days`);
    }
  }
  const r = f.redirect;
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
  })
  .strict();
type Params = z.infer<typeof params>;

/** Verdict from findings (pure). */
export function judgeTls(
  pub: Finding[],
  internal: Finding[] | null,
  p: Pick<Params, 'minGrade' | 'failOn' | 'failOnInternal'>,
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

export const tlsProbe: Probe<Params, TlsValue> = {
  name: 'tls',
  description: 'TLS of the public endpoint (chain, expiry, hostname, key, protocols, cipher, HSTS, redirect) and encryption inside the stack',
  params,
  async run(ctx, p, signal): Promise<Observation<TlsValue>> {
    const started = startMark();
    const s = ctx.stack;
    const url = new URL(s.httpsUrl);
    const facts = await gatherTls(
      {
        host: '127.0.0.1',
        port: Number(url.port),
        servername: url.hostname,
        ca: (await s.ca()) ?? '',
        httpsUrl: s.httpsUrl,
        httpUrl: s.httpUrl,
        hostnames: [url.hostname, s.options.domain],
      },
      signal,
    );
    const pub = publicFindings(facts).map((f) =>
      f.id === 'cert-expiring' && facts.certificate && (Date.parse(facts.certificate.validTo) - facts.now) / DAY >= p.minDays
        ? { ...f, severity: 'info' as const }
        : f,
    );
    let internal: InternalFacts | null = null;
    let intFindings: Finding[] | null = null;
    if (p.internal) {
      internal = await gatherInternal(ctx, signal);
      intFindings = internalFindings(internal);
    }
    const j = judgeTls(pub, intFindings, p);
    const c = facts.certificate;
    return observation('tls', started, {
      value: {
        grade: j.grade,
        internalGrade: j.internalGrade,
        daysToExpiry: c ? Math.floor((Date.parse(c.validTo) - facts.now) / DAY) : null,
        protocols: Object.fromEntries(facts.versions.map((v) => [v.version, v.outcome])),
      },
      tolerance: gradeTolerance(p.minGrade),
      passed: j.passed,
      details: { public: facts, ...(internal ? { internal } : {}) },
      findings: [...pub, ...(intFindings ?? [])],
    });
  },
};
