// Certificate and TLS-configuration faults at the load balancer: swap HAProxy's certificate or config (and,
// for weak keys and SHA-1, OpenSSL's security level) with putArchive, then reload HAProxy with SIGUSR2,
// which in master-worker mode keeps established connections. Revert puts back exactly the saved files.

import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { retryUntil } from '../util/retry.js';
import { issueCertificate, privateKeyOf, serverAltNames, sha256Hex, type KeyPair } from '../stack/tls.js';
import { execOk } from './helpers.js';
import { tarOf } from './tar.js';
import { assertStackContainer, resolveContainers, toRef } from './targets.js';
import { handshake, httpGet, legacyHandshake } from './tls-check.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultPlan } from './types.js';

export const LB_FILES = {
  certificate: '/etc/haproxy/certs/site.pem',
  config: '/etc/haproxy/haproxy.active.cfg',
  openssl: '/etc/ssl/openssl.cnf',
} as const;
type FileKey = keyof typeof LB_FILES;

type Mode = 'certificate' | 'legacy-tls' | 'no-hsts' | 'no-redirect';

/**
 * A file as it is recorded. Files that hold a private key (the LB's certificate file) are recorded by their
 * SHA-256 only, never by content: the record is printed by `--json` and may end up in CI logs. Their content
 * is kept in the LB itself (SAVE_DIR, written with the swap) and, for a stack faultline started, in its 0700
 * TLS folder; revert takes whichever copy has the recorded hash. (Records of older versions carried base64.)
 */
const fileSchema = z.object({
  key: z.enum(['certificate', 'config', 'openssl']),
  path: z.string(),
  mode: z.number(),
  base64: z.string().optional(),
  sha256: z.string().optional(),
});
const dataSchema = z.object({
  mode: z.enum(['certificate', 'legacy-tls', 'no-hsts', 'no-redirect']),
  lbId: z.string(),
  /** What was there before, to be put back byte for byte. */
  previous: z.array(fileSchema),
  /** What the fault puts there; secret-bearing files only by hash (their content is in memory until apply). */
  next: z.array(fileSchema),
  previousFingerprint: z.string(),
  injectedFingerprint: z.string().optional(),
});
type CertData = z.infer<typeof dataSchema>;
type LbFile = { key: FileKey; path: string; mode: number; content: Buffer };

/** Where the swap keeps the LB's own certificate file inside the LB, for the revert. */
const SAVE_DIR = '/run/faultline';
const savedCopy = (faultId: string) => `${SAVE_DIR}/${faultId}-site.pem`;

/** File contents that must not be written to the state file, by the plan's data object (apply runs in-process). */
const secrets = new WeakMap<object, { previous: LbFile[]; next: LbFile[] }>();

const holdsKey = (content: Buffer) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(content.toString('latin1'));

/** A file for the record: content when it is no secret, its hash otherwise. Pure. */
export function recordedFile(f: LbFile): CertData['previous'][number] {
  return holdsKey(f.content)
    ? { key: f.key, path: f.path, mode: f.mode, sha256: sha256Hex(f.content) }
    : { key: f.key, path: f.path, mode: f.mode, base64: f.content.toString('base64') };
}

const APPLY_TIMEOUT_MS = 20_000;
/** A reload normally shows within ~2 s here; after this long the SIGUSR2 is sent again. */
const RELOAD_RETRY_MS = 4_000;

async function readLbFiles(ctx: FaultContext, lbId: string, keys: FileKey[], signal: AbortSignal): Promise<LbFile[]> {
  // One exec for all files: permissions then base64 content, one pair of lines per file.
  const script = keys.map((k) => `stat -c %a '${LB_FILES[k]}' && base64 -w0 '${LB_FILES[k]}' && echo`).join(' && ');
  const res = await execOk(ctx, lbId, ['sh', '-c', script], { signal, what: 'reading the LB files' });
  const lines = res.stdout.split('\n');
  return keys.map((key, i) => ({ key, path: LB_FILES[key], mode: parseInt(lines[i * 2] ?? '644', 8), content: Buffer.from(lines[i * 2 + 1] ?? '', 'base64') }));
}

function text(files: LbFile[], key: FileKey): string {
  const f = files.find((x) => x.key === key);
  if (!f) throw new FaultlineError('INTERNAL', `no saved ${key}`);
  return f.content.toString('utf8');
}

/**
 * The content of each recorded file: inline, or (secret-bearing files) the first copy whose SHA-256 is the
 * recorded one: the copy the swap left in the LB (read with the archive API, so in any container state), then
 * the stack's own TLS folder.
 */
async function contentsOf(ctx: FaultContext, record: { id: string; data: CertData }, files: CertData['previous']): Promise<LbFile[]> {
  const out: LbFile[] = [];
  for (const f of files) {
    if (f.base64 !== undefined) {
      out.push({ key: f.key, path: f.path, mode: f.mode, content: Buffer.from(f.base64, 'base64') });
      continue;
    }
    // The LB's current file is a candidate too: an apply that failed before the swap left the original there.
    const candidates = [
      () => ctx.docker.readFile(record.data.lbId, savedCopy(record.id)),
      () => ctx.docker.readFile(record.data.lbId, f.path),
      () => readFile(join(ctx.stack.stateDir, 'tls', 'lb', 'site.pem')).catch(() => undefined),
    ];
    let found: Buffer | undefined;
    for (const read of candidates) {
      const c = await read().catch(() => undefined);
      if (c && sha256Hex(c) === f.sha256) {
        found = c;
        break;
      }
    }
    if (!found)
      throw new FaultlineError(
        'REVERT_FAILED',
        `${record.id}: no copy of ${f.path} with the recorded SHA-256 (in the LB at ${savedCopy(record.id)}, or in ${join(ctx.stack.stateDir, 'tls', 'lb')})`,
      );
    out.push({ key: f.key, path: f.path, mode: f.mode, content: found });
  }
  return out;
}

function certOf(pem: string): X509Certificate {
  const end = pem.indexOf('-----END CERTIFICATE-----');
  if (end < 0) throw new FaultlineError('INTERNAL', 'the LB certificate file holds no certificate');
  return new X509Certificate(pem.slice(0, end + '-----END CERTIFICATE-----'.length));
}

/** Puts files into the LB with the archive API, which works whatever its state (running, stopped, paused). */
async function putFiles(ctx: FaultContext, lbId: string, files: LbFile[]): Promise<void> {
  await assertStackContainer(ctx, lbId);
  const archive = tarOf(files.map((f) => ({ path: f.path.replace(/^\//, ''), content: f.content, mode: f.mode })));
  await ctx.docker.putArchive(lbId, '/', archive);
}

async function putAndReload(ctx: FaultContext, lbId: string, files: LbFile[]): Promise<void> {
  await putFiles(ctx, lbId, files);
  // Master-worker HAProxy re-executes on SIGUSR2: new workers take the new files, old ones finish their connections.
  await ctx.docker.kill(lbId, 'SIGUSR2');
}

/** Raises OpenSSL's security level to 0 for HAProxy: Debian's default (2) refuses to load RSA-1024 or SHA-1 certificates. */
export function seclevelZero(cnf: string): string {
  const section = /^\[\s*openssl_init\s*\]\s*$/m;
  const extra = '\n[faultline_ssl]\nsystem_default = faultline_tls\n[faultline_tls]\nCipherString = DEFAULT:@SECLEVEL=0\n';
  if (section.test(cnf)) return cnf.replace(section, (m) => `${m}\nssl_conf = faultline_ssl`) + extra;
  return `openssl_conf = openssl_init\n${cnf}\n[openssl_init]\nssl_conf = faultline_ssl\n${extra}`;
}

/** Config edits, pure; each throws when the config does not have the line it changes. */
export const configEdits: Record<Exclude<Mode, 'certificate'>, (cfg: string) => string> = {
  'legacy-tls': (cfg) => {
    const min = /ssl-min-ver\s+TLSv1\.[23]/;
    const ciphers = /^(\s*ssl-default-bind-ciphers\s+)(\S+)\s*$/m;
    if (!min.test(cfg) || !ciphers.test(cfg))
      throw new FaultlineError('INVALID_INPUT', 'tls-legacy: the LB config has no ssl-min-ver / ssl-default-bind-ciphers line to relax');
    // TLS 1.0/1.1 need CBC suites, and OpenSSL 3 offers them only at security level 0.
    return cfg
      .replace(min, 'ssl-min-ver TLSv1.0')
      .replace(ciphers, (_m, head: string, list: string) => `${head}${list}:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:@SECLEVEL=0`);
  },
  'no-hsts': (cfg) => {
    const line = /^\s*http-response\s+set-header\s+Strict-Transport-Security\b.*\n/im;
    if (!line.test(cfg)) throw new FaultlineError('INVALID_INPUT', 'hsts-removed: the LB config sets no Strict-Transport-Security header');
    return cfg.replace(line, '');
  },
  'no-redirect': (cfg) => {
    const line = /^\s*http-request\s+redirect\b.*unless\s*\{\s*ssl_fc\s*\}.*\n/m;
    if (!line.test(cfg)) throw new FaultlineError('INVALID_INPUT', 'http-no-redirect: the LB config has no HTTP→HTTPS redirect');
    return cfg.replace(line, '');
  },
};

type CertVariant = 'expired' | 'not-yet-valid' | 'wrong-host' | 'self-signed' | 'weak-key' | 'sha1';
const DAY = 86_400_000;

async function stackCa(ctx: FaultContext): Promise<KeyPair> {
  const dir = join(ctx.stack.stateDir, 'tls');
  try {
    return { certPem: await readFile(join(dir, 'ca.pem'), 'utf8'), keyPem: await readFile(join(dir, 'ca-key.pem'), 'utf8') };
  } catch (err) {
    throw new FaultlineError('INVALID_INPUT', `this certificate fault signs with the stack's CA, but ${dir}/ca-key.pem cannot be read`, {
      cause: err,
      hint: 'use cert-self-signed for a stack faultline did not start',
    });
  }
}

/**
 * The bad certificate for each variant: everything else as the real one, so only the named flaw differs. It
 * keeps the LB's own key (`keyPem`, when given) except for the weak-key variant: no key to make, so the swap
 * costs one signature (~10 ms) instead of a 2048-bit key (150-600 ms on this machine).
 */
export async function badCertificate(ctx: FaultContext, variant: CertVariant, now = Date.now(), keyPem?: string): Promise<KeyPair> {
  const domain = ctx.stack.options.domain;
  const base = {
    commonName: domain,
    altNames: serverAltNames(domain),
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 90 * DAY),
    ...(keyPem ? { keyPem } : {}),
  }; // past every "expires soon" threshold (testssl.sh: 30 days)
  switch (variant) {
    case 'expired':
      return issueCertificate({ ...base, notBefore: new Date(now - 60 * DAY), notAfter: new Date(now - DAY), issuer: await stackCa(ctx) });
    case 'not-yet-valid':
      return issueCertificate({ ...base, notBefore: new Date(now + 30 * DAY), notAfter: new Date(now + 120 * DAY), issuer: await stackCa(ctx) });
    case 'wrong-host':
      return issueCertificate({ ...base, commonName: 'wrong-host.invalid', altNames: ['wrong-host.invalid'], issuer: await stackCa(ctx) });
    case 'self-signed':
      return issueCertificate({ ...base, organization: 'untrusted issuer' });
    case 'weak-key':
      return issueCertificate({ ...base, keyPem: undefined, keyBits: 1024, issuer: await stackCa(ctx) });
    case 'sha1':
      return issueCertificate({ ...base, hash: 'sha1', issuer: await stackCa(ctx) });
  }
}

async function findLb(ctx: FaultContext, target: string | undefined): Promise<ReturnType<typeof toRef>> {
  const [lb] = await resolveContainers(ctx, target ?? 'role=lb,component=haproxy');
  if (!lb || lb.component !== 'haproxy')
    throw new FaultlineError('INVALID_INPUT', `target: certificate faults act on the HAProxy container (component=haproxy), not ${lb?.service ?? target}`);
  if (lb.state !== 'running')
    throw new FaultlineError('TARGET_UNREACHABLE', `${lb.service || lb.name} is ${lb.state}; certificate faults need a running HAProxy`);
  return toRef(lb);
}

async function checkMode(ctx: FaultContext, data: CertData, signal: AbortSignal): Promise<FaultCheck> {
  const port = ctx.stack.options.httpsPort;
  switch (data.mode) {
    case 'certificate': {
      const hs = await handshake({ port, signal });
      const fp = hs.certificate?.fingerprint256;
      return {
        active: fp !== undefined && fp === data.injectedFingerprint,
        detail: hs.ok ? `LB serves ${fp?.slice(0, 23)}… (${hs.authorizationError ?? 'trusted'})` : `handshake failed: ${hs.error}`,
      };
    }
    case 'legacy-tls': {
      const hs = await legacyHandshake(port, 'TLSv1', signal);
      return { active: hs.ok, detail: hs.ok ? `TLS 1.0 accepted (${hs.protocol})` : `TLS 1.0 refused (${hs.error})` };
    }
    case 'no-hsts': {
      const res = await httpGet(`https://127.0.0.1:${port}/health`, { signal });
      const hsts = res?.headers['strict-transport-security'];
      return { active: res !== undefined && hsts === undefined, detail: res ? `HSTS ${hsts ? 'present' : 'absent'}` : 'no HTTPS answer' };
    }
    case 'no-redirect': {
      const res = await httpGet(`http://127.0.0.1:${ctx.stack.options.httpPort}/health`, { signal });
      return { active: res !== undefined && res.status >= 200 && res.status < 300, detail: res ? `plain HTTP answers ${res.status}` : 'no HTTP answer' };
    }
  }
}

/**
 * Waits until `ok` holds after a reload. A SIGUSR2 that arrives while the master is still busy with an
 * earlier reload can be lost, so the signal is repeated (harmless: the files are already in place).
 */
async function reloadUntil(ctx: FaultContext, lbId: string, ok: () => Promise<boolean>, what: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + APPLY_TIMEOUT_MS;
  for (let attempt = 0; Date.now() < deadline; attempt += 1) {
    if (attempt > 0) await ctx.docker.kill(lbId, 'SIGUSR2');
    const left = Math.max(100, Math.min(RELOAD_RETRY_MS, deadline - Date.now()));
    const done = await retryUntil(ok, (v) => v, { timeoutMs: left, intervalMs: 25, signal, what }).then(
      () => true,
      (err: unknown) => {
        if (signal.aborted) throw err;
        return false;
      },
    );
    if (done) return;
  }
  throw new FaultlineError('TIMEOUT', `timed out after ${APPLY_TIMEOUT_MS} ms waiting for ${what}`);
}

async function lbLogTail(ctx: FaultContext, lbId: string): Promise<string> {
  const logs = await ctx.docker.logs(lbId, 8).catch(() => '');
  const alerts = logs.split('\n').filter((l) => /ALERT|Loading failure/.test(l));
  return alerts.length
    ? `; HAProxy says: ${alerts
        .map((l) => l.replace(/^\S+\s+/, '').trim())
        .join(' | ')
        .slice(0, 600)}`
    : '';
}

function define(name: string, description: string, mode: Mode, variant?: CertVariant): FaultDefinition<Record<string, never>, CertData> {
  const keys: FileKey[] = mode === 'certificate' ? (variant === 'weak-key' || variant === 'sha1' ? ['certificate', 'openssl'] : ['certificate']) : ['config'];
  return {
    name,
    kind: 'certificate',
    description,
    defaultTarget: 'role=lb,component=haproxy',
    params: z.object({}).strict(),
    data: dataSchema,
    async plan(ctx, target, _params, signal): Promise<FaultPlan<CertData>> {
      const lb = await findLb(ctx, target);
      // The certificate is always read: its fingerprint is how revert proves the original is back.
      const previous = await readLbFiles(ctx, lb.id, [...new Set<FileKey>(['certificate', ...keys])], signal);
      const current = text(previous, 'certificate');
      const bad = mode === 'certificate' && variant ? await badCertificate(ctx, variant, Date.now(), privateKeyOf(current)) : undefined;
      const previousFingerprint = certOf(current).fingerprint256;
      const saved = previous.filter((f) => keys.includes(f.key));
      const next: LbFile[] = [];
      let injectedFingerprint: string | undefined;
      if (bad) {
        injectedFingerprint = new X509Certificate(bad.certPem).fingerprint256;
        next.push({ key: 'certificate', path: LB_FILES.certificate, mode: 0o600, content: Buffer.from(bad.certPem + bad.keyPem) });
        if (keys.includes('openssl')) {
          next.push({ key: 'openssl', path: LB_FILES.openssl, mode: 0o644, content: Buffer.from(seclevelZero(text(previous, 'openssl'))) });
        }
      } else if (mode !== 'certificate') {
        next.push({ key: 'config', path: LB_FILES.config, mode: saved[0]?.mode ?? 0o644, content: Buffer.from(configEdits[mode](text(previous, 'config'))) });
      }
      const what =
        mode === 'certificate'
          ? `a ${variant} certificate (${injectedFingerprint?.slice(0, 23)}…)`
          : {
              'legacy-tls': 'a config accepting TLS 1.0/1.1',
              'no-hsts': 'a config without the HSTS header',
              'no-redirect': 'a config serving plain HTTP instead of the redirect',
            }[mode];
      const data: CertData = {
        mode,
        lbId: lb.id,
        previous: saved.map(recordedFile),
        next: next.map(recordedFile),
        previousFingerprint,
        ...(injectedFingerprint ? { injectedFingerprint } : {}),
      };
      secrets.set(data, { previous: saved, next });
      return {
        targets: [lb],
        steps: [
          `save ${saved.map((f) => f.path).join(', ')} from ${lb.service || lb.name} (certificate ${previousFingerprint.slice(0, 23)}…)`,
          `put ${what} there${keys.includes('openssl') ? ', with OpenSSL security level 0 so HAProxy loads it' : ''}`,
          'reload HAProxy with SIGUSR2 (established connections stay)',
          'revert: put back the saved files byte for byte, reload, check the original fingerprint is served',
        ],
        slots: keys.map((k) => `lb:${k}`),
        data,
      };
    },
    async apply(ctx, record, _update, signal) {
      const held = secrets.get(record.data);
      if (!held) throw new FaultlineError('INTERNAL', `${name}: apply runs only in the process that planned it`);
      // The LB's own file goes beside the swap, in the same archive: the revert reads it back from there.
      const keep = held.previous.filter((f) => f.key === 'certificate' && holdsKey(f.content)).map((f) => ({ ...f, path: savedCopy(record.id), mode: 0o600 }));
      await putAndReload(ctx, record.data.lbId, [...keep, ...held.next]);
      await reloadUntil(ctx, record.data.lbId, async () => (await checkMode(ctx, record.data, signal)).active, `HAProxy to serve ${name}`, signal).catch(
        async (err: unknown) => {
          throw new FaultlineError('INTERNAL', `${name}: HAProxy did not take the change${await lbLogTail(ctx, record.data.lbId)}`, { cause: err });
        },
      );
    },
    async revert(ctx, record, signal) {
      const info = await ctx.docker.inspect(record.data.lbId).catch(() => undefined);
      if (!info) {
        ctx.log(`${name}: ${record.data.lbId.slice(0, 12)} no longer exists; nothing to put back`);
        return;
      }
      const previous = await contentsOf(ctx, record, record.data.previous);
      if (!info.running) {
        // The files go back whatever the state (a lowered OpenSSL security level must not wait for a start
        // that may never come); HAProxy reads them when it starts. Nothing to reload or check now.
        await putFiles(ctx, record.data.lbId, previous);
        ctx.log(`${name}: ${record.data.lbId.slice(0, 12)} is not running; its files are back for its next start`);
        return;
      }
      await putAndReload(ctx, record.data.lbId, previous);
      await reloadUntil(
        ctx,
        record.data.lbId,
        async () => {
          const hs = await handshake({ port: ctx.stack.options.httpsPort, signal });
          return hs.certificate?.fingerprint256 === record.data.previousFingerprint && !(await checkMode(ctx, record.data, signal)).active;
        },
        `HAProxy to serve the original configuration and certificate ${record.data.previousFingerprint.slice(0, 23)}…`,
        signal,
      ).catch(async (err: unknown) => {
        throw new FaultlineError('REVERT_FAILED', `${name}: ${(err as Error).message}${await lbLogTail(ctx, record.data.lbId)}`, { cause: err });
      });
      await ctx.docker.exec(record.data.lbId, ['rm', '-f', savedCopy(record.id)]).catch(() => undefined);
    },
    check: (ctx, record, signal) => checkMode(ctx, record.data, signal),
  };
}

export const certificateFaults = [
  define('cert-expired', 'the LB serves a certificate that expired yesterday (signed by the stack CA)', 'certificate', 'expired'),
  define('cert-not-yet-valid', 'the LB serves a certificate valid only from next month', 'certificate', 'not-yet-valid'),
  define('cert-wrong-host', 'the LB serves a certificate for another hostname (wrong-host.invalid)', 'certificate', 'wrong-host'),
  define('cert-self-signed', 'the LB serves a self-signed certificate (untrusted issuer)', 'certificate', 'self-signed'),
  define('cert-weak-key', 'the LB serves a certificate with an RSA 1024-bit key', 'certificate', 'weak-key'),
  define('cert-sha1', 'the LB serves a certificate signed with SHA-1', 'certificate', 'sha1'),
  define('tls-legacy', 'the LB accepts TLS 1.0 and 1.1 (security level 0, CBC suites)', 'legacy-tls'),
  define('hsts-removed', 'the LB stops sending Strict-Transport-Security', 'no-hsts'),
  define('http-no-redirect', 'the LB serves plain HTTP on port 80 instead of redirecting to HTTPS', 'no-redirect'),
];
