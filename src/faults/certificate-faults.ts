// Certificate and TLS-configuration faults at the TLS edge the stack description declares (stack.edge): HAProxy
// gets its certificate file (and, for weak keys and SHA-1, OpenSSL's security level) or its config swapped; nginx
// gets its config pointed at a new certificate (its own files are often mounted read-only) or edited. Then the edge
// reloads (edge-files.ts), and every check looks at the described endpoint. Revert puts back exactly the saved files.

import { randomBytes, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { privateKeyOf, sha256Hex, type KeyPair } from '../stack/tls.js';
import { certificateNames, certOf, issueBadCertificate, needsCa, signingCa, type CertVariant } from './certificate-bad.js';
import { contentsOf, dataSchema, holdsKey, recordedFile, replacedSince, savedCopy, type CertData } from './certificate-record.js';
import { configEdits, nginxCiphersAtLevelZero, nginxPointAt, seclevelZero, type ConfigMode } from './edge-config.js';
import {
  edgeLogTail,
  edgeOf,
  findEdge,
  putEdgeFiles,
  readEdgeFiles,
  reloadEdgeUntil,
  reloadWords,
  removeEdgeFiles,
  SAVE_DIR,
  textOf,
  type EdgeFile,
  type EdgeKind,
  type FileKey,
} from './edge-files.js';
import { execOk } from './helpers.js';
import { armScript, disarmScript, edgeUndo, switchArgv, switchSeconds } from './switch.js';
import { handshake, handshakeTarget, httpGet, legacyHandshake, loopbackUrl } from './tls-check.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultPlan } from './types.js';

export { LB_FILES } from './edge-files.js';
export { configEdits, seclevelZero } from './edge-config.js';
export { recordedFile } from './certificate-record.js';

type Mode = 'certificate' | ConfigMode;

/** File contents that must not be written to the state file, by the plan's data object (apply runs in-process). */
const secrets = new WeakMap<object, { previous: EdgeFile[]; next: EdgeFile[] }>();

/** The CA PEM clients verify the endpoint with, when the description gives one; only for the check's words. */
async function endpointCa(ctx: FaultContext): Promise<string | undefined> {
  try {
    return await ctx.stack.ca();
  } catch {
    return undefined;
  }
}

async function served(ctx: FaultContext, signal: AbortSignal) {
  return handshake({ ...handshakeTarget(ctx.stack.httpsUrl, ctx.stack.spec.endpoint.sni), ca: await endpointCa(ctx), signal });
}

async function checkMode(ctx: FaultContext, data: CertData, signal: AbortSignal): Promise<FaultCheck> {
  const { sni, ready_path: path } = ctx.stack.spec.endpoint;
  switch (data.mode) {
    case 'certificate': {
      const hs = await served(ctx, signal);
      const fp = hs.certificate?.fingerprint256;
      return {
        active: fp !== undefined && fp === data.injectedFingerprint,
        detail: hs.ok ? `the edge serves ${fp?.slice(0, 23)}… (${hs.authorizationError ?? 'trusted'})` : `handshake failed: ${hs.error}`,
      };
    }
    case 'legacy-tls': {
      const hs = await legacyHandshake(handshakeTarget(ctx.stack.httpsUrl, sni), 'TLSv1', signal);
      return { active: hs.ok, detail: hs.ok ? `TLS 1.0 accepted (${hs.protocol})` : `TLS 1.0 refused (${hs.error})` };
    }
    case 'no-hsts': {
      const res = await httpGet(`${loopbackUrl(ctx.stack.httpsUrl)}${path}`, { ...(sni ? { servername: sni } : {}), signal });
      const hsts = res?.headers['strict-transport-security'];
      return { active: res !== undefined && hsts === undefined, detail: res ? `HSTS ${hsts ? 'present' : 'absent'}` : 'no HTTPS answer' };
    }
    case 'no-redirect': {
      const res = await httpGet(`${loopbackUrl(ctx.stack.httpUrl)}${path}`, { signal });
      return { active: res !== undefined && res.status >= 200 && res.status < 300, detail: res ? `plain HTTP answers ${res.status}` : 'no HTTP answer' };
    }
  }
}

/** The bad certificate of `variant` for the described endpoint, signed (unless self-signed) by the endpoint's CA. */
export async function badCertificate(ctx: FaultContext, variant: CertVariant, now = Date.now(), keyPem?: string): Promise<KeyPair> {
  const issuer = needsCa(variant) ? await signingCa(ctx, `cert-${variant}`) : undefined;
  return issueBadCertificate(variant, certificateNames(ctx.stack.spec.endpoint), issuer, now, keyPem);
}

interface Swap {
  /** Files read to be put back by revert. */
  saved: EdgeFile[];
  /** Files the fault puts. */
  next: EdgeFile[];
  created: string[];
  /** The certificate served now: how revert proves the original is back. */
  previousFingerprint: string;
  injectedFingerprint?: string;
}

/**
 * What a certificate swap reads and puts. HAProxy: the certificate file itself (with the edge's key), and OpenSSL's
 * security level lowered for the weak variants. nginx: a new certificate beside the original, the config pointed
 * at it (with a new key for weak-key, and ciphers at security level 0, which nginx applies before it loads the
 * certificate, for the weak variants).
 */
async function planSwap(ctx: FaultContext, name: string, lbId: string, variant: CertVariant, signal: AbortSignal): Promise<Swap> {
  const edge = edgeOf(ctx, name);
  const issuer: KeyPair | undefined = needsCa(variant) ? await signingCa(ctx, name) : undefined;
  const weak = variant === 'weak-key' || variant === 'sha1';
  const want: Array<{ key: FileKey; path: string }> = [{ key: 'certificate', path: edge.certificate }];
  if (edge.kind === 'haproxy' && weak) want.push({ key: 'openssl', path: edge.openssl });
  if (edge.kind === 'nginx') want.push({ key: 'key', path: edge.key! }, { key: 'config', path: edge.config! });
  const files = await readEdgeFiles(ctx, lbId, want, signal);
  const current = textOf(files, 'certificate');
  const keyPem = privateKeyOf(edge.kind === 'haproxy' ? current : textOf(files, 'key'));
  const bad = issueBadCertificate(variant, certificateNames(ctx.stack.spec.endpoint, certOf(current)), issuer, Date.now(), keyPem);
  const injectedFingerprint = new X509Certificate(bad.certPem).fingerprint256;
  const find = (key: FileKey) => files.find((f) => f.key === key)!;
  if (edge.kind === 'haproxy') {
    const next: EdgeFile[] = [{ key: 'certificate', path: edge.certificate, mode: 0o600, content: Buffer.from(bad.certPem + bad.keyPem) }];
    if (weak) next.push({ key: 'openssl', path: edge.openssl, mode: 0o644, content: Buffer.from(seclevelZero(textOf(files, 'openssl'))) });
    const saved = files.filter((f) => f.key === 'certificate' || f.key === 'openssl');
    return { saved, next, created: [], previousFingerprint: certOf(current).fingerprint256, injectedFingerprint };
  }
  const stem = `${SAVE_DIR}/${name}-${randomBytes(4).toString('hex')}`;
  let config = nginxPointAt(textOf(files, 'config'), 'ssl_certificate', edge.certificate, `${stem}.crt`);
  const next: EdgeFile[] = [{ key: 'certificate', path: `${stem}.crt`, mode: 0o644, content: Buffer.from(bad.certPem) }];
  if (variant === 'weak-key') {
    config = nginxPointAt(config, 'ssl_certificate_key', edge.key!, `${stem}.key`);
    next.push({ key: 'key', path: `${stem}.key`, mode: 0o600, content: Buffer.from(bad.keyPem) });
  }
  if (weak) config = nginxCiphersAtLevelZero(config);
  next.push({ ...find('config'), content: Buffer.from(config) });
  // The original certificate is not touched (often it cannot be: a read-only mount), so only the config goes back.
  const created = next.filter((f) => f.key !== 'config').map((f) => f.path);
  return { saved: [find('config')], next, created, previousFingerprint: certOf(current).fingerprint256, injectedFingerprint };
}

async function planConfig(ctx: FaultContext, name: string, lbId: string, mode: ConfigMode, kind: EdgeKind, signal: AbortSignal): Promise<Swap> {
  const edge = edgeOf(ctx, name);
  if (!edge.config) throw new FaultlineError('INVALID_INPUT', `${name}: ${ctx.stack.spec.file} names no configuration file of the edge (stack.edge.config)`);
  if (mode === 'no-redirect' && !ctx.stack.spec.endpoint.http_url)
    throw new FaultlineError('INVALID_INPUT', `${name}: ${ctx.stack.spec.file} declares no plain-HTTP entry to check (stack.endpoint.http_url)`);
  const files = await readEdgeFiles(
    ctx,
    lbId,
    [
      { key: 'certificate', path: edge.certificate },
      { key: 'config', path: edge.config },
    ],
    signal,
  );
  const config = files.find((f) => f.key === 'config')!;
  const next = [{ ...config, content: Buffer.from(configEdits[kind][mode](config.content.toString('utf8'))) }];
  return { saved: [config], next, created: [], previousFingerprint: certOf(textOf(files, 'certificate')).fingerprint256 };
}

/** The default target, as `fault list` shows it: the description's edge (a syntactically valid target, never resolved). */
const EDGE_TARGET = 'stack.edge.target';

const CONFIG_WORDS: Record<ConfigMode, string> = {
  'legacy-tls': 'a config accepting TLS 1.0/1.1',
  'no-hsts': 'a config without the HSTS header',
  'no-redirect': 'a config serving plain HTTP instead of the redirect',
};

function define(name: string, description: string, mode: Mode, variant?: CertVariant): FaultDefinition<Record<string, never>, CertData> {
  return {
    name,
    kind: 'certificate',
    description,
    defaultTarget: EDGE_TARGET,
    params: z.object({}).strict(),
    data: dataSchema,
    async plan(ctx, target, _params, signal): Promise<FaultPlan<CertData>> {
      const edge = edgeOf(ctx, name);
      const lb = await findEdge(ctx, edge, target === EDGE_TARGET ? undefined : target);
      const swap = mode === 'certificate' ? await planSwap(ctx, name, lb.id, variant!, signal) : await planConfig(ctx, name, lb.id, mode, edge.kind, signal);
      const { saved, previousFingerprint } = swap;
      const data: CertData = {
        mode,
        lbId: lb.id,
        kind: edge.kind,
        previous: saved.map(recordedFile),
        next: swap.next.map(recordedFile),
        created: swap.created,
        previousFingerprint,
        ...(swap.injectedFingerprint ? { injectedFingerprint: swap.injectedFingerprint } : {}),
      };
      secrets.set(data, { previous: saved, next: swap.next });
      const what = mode === 'certificate' ? `a ${variant} certificate (${swap.injectedFingerprint?.slice(0, 23)}…)` : CONFIG_WORDS[mode];
      const lowered = swap.next.some((f) => f.key === 'openssl') ? ', with OpenSSL security level 0 so HAProxy loads it' : '';
      const pointed = edge.kind === 'nginx' && mode === 'certificate' ? ` (${swap.created.join(', ')}, ${edge.config} pointed at it)` : ' there';
      return {
        targets: [lb],
        steps: [
          `save ${saved.map((f) => f.path).join(', ')} from ${lb.service || lb.name} (certificate ${previousFingerprint.slice(0, 23)}…)`,
          `put ${what}${pointed}${lowered}`,
          reloadWords[edge.kind],
          'revert: put back the saved files byte for byte, reload, check the original fingerprint is served',
        ],
        slots: [...new Set([...saved, ...swap.next].map((f) => `lb:${f.key === 'key' ? 'certificate' : f.key}`))],
        data,
      };
    },
    async apply(ctx, record, _update, signal) {
      const held = secrets.get(record.data);
      if (!held) throw new FaultlineError('INTERNAL', `${name}: apply runs only in the process that planned it`);
      const { lbId, kind } = record.data;
      // The edge's own secret-bearing file goes beside the swap, in the same archive: the revert reads it back from there.
      const kept = (f: EdgeFile) => f.key === 'certificate' && holdsKey(f.content);
      const keep = held.previous.filter(kept).map((f) => ({ ...f, path: savedCopy(record.id), mode: 0o600 }));
      // Dead man's switch first (switch.ts): a sleeper in the edge puts the saved files back and reloads if no revert came.
      // Each file only while it is still the one the fault put (not, e.g., a certificate renewed since).
      const putSha = (path: string) => sha256Hex(held.next.find((n) => n.path === path)?.content ?? Buffer.alloc(0));
      const restore = held.previous.map((f) => ({
        path: f.path,
        mode: f.mode,
        ifSha256: putSha(f.path),
        ...(kept(f) ? { from: savedCopy(record.id) } : { content: f.content }),
      }));
      const undo = edgeUndo(restore, kind === 'haproxy' ? 'SIGUSR2' : 'SIGHUP');
      await execOk(ctx, lbId, switchArgv(record.id, armScript(record.id, switchSeconds(ctx.maxDurationMs), undo)), {
        what: `${name}: arming its switch`,
        toEnd: true,
      });
      await putEdgeFiles(ctx, lbId, [...keep, ...held.next]);
      await reloadEdgeUntil(ctx, record.data, async () => (await checkMode(ctx, record.data, signal)).active, `the edge to serve ${name}`, signal).catch(
        async (err: unknown) => {
          throw new FaultlineError('INTERNAL', `${name}: the ${kind} edge did not take the change${await edgeLogTail(ctx, lbId, kind)}`, { cause: err });
        },
      );
    },
    async revert(ctx, record, signal) {
      const { lbId, kind } = record.data;
      // Only "no such container" means gone: any other Docker error must fail the revert, not skip it.
      const info = await ctx.docker.findContainer(lbId);
      if (!info) {
        ctx.log(`${name}: ${lbId.slice(0, 12)} no longer exists; nothing to put back`);
        return;
      }
      // A file replaced since (`stack up` renewed the certificate) stays: putting the saved one back would undo that.
      const replaced = await replacedSince(ctx, record.data);
      for (const path of replaced) ctx.log(`${name}: ${path} was replaced since the fault took effect (a renewed certificate?); it stays as it is`);
      const renewed = record.data.previous.some((f) => f.key === 'certificate' && replaced.has(f.path));
      const previous = await contentsOf(
        ctx,
        record,
        record.data.previous.filter((f) => !replaced.has(f.path)),
      );
      if (!info.running) {
        // The files go back whatever the state (a lowered OpenSSL security level must not wait for a start
        // that may never come); the edge reads them when it starts. Nothing to reload or check now.
        if (previous.length) await putEdgeFiles(ctx, lbId, previous);
        ctx.log(
          `${name}: ${lbId.slice(0, 12)} is not running; its files are back for its next start${record.data.created.length ? ` (${record.data.created.join(', ')} stay, unused)` : ''}`,
        );
        return;
      }
      if (previous.length) await putEdgeFiles(ctx, lbId, previous);
      const fingerprintOk = (fp: string | undefined) =>
        renewed ? fp !== undefined && fp !== record.data.injectedFingerprint : fp === record.data.previousFingerprint;
      await reloadEdgeUntil(
        ctx,
        record.data,
        async () => fingerprintOk((await served(ctx, signal)).certificate?.fingerprint256) && !(await checkMode(ctx, record.data, signal)).active,
        `the edge to serve the original configuration and certificate ${record.data.previousFingerprint.slice(0, 23)}…`,
        signal,
      ).catch(async (err: unknown) => {
        throw new FaultlineError('REVERT_FAILED', `${name}: ${(err as Error).message}${await edgeLogTail(ctx, lbId, kind)}`, { cause: err });
      });
      const disarm = await ctx.docker
        .exec(lbId, ['sh', '-c', disarmScript(record.id)])
        .catch((err: unknown) => ({ exitCode: -1, stderr: (err as Error).message }));
      if (disarm.exitCode !== 0) ctx.log(`${name}: could not disarm its switch (it would put the same files back): ${disarm.stderr.trim().slice(0, 200)}`);
      await removeEdgeFiles(ctx, lbId, [...record.data.created, savedCopy(record.id)]);
    },
    check: (ctx, record, signal) => checkMode(ctx, record.data, signal),
  };
}

export const certificateFaults = [
  define('cert-expired', 'the TLS edge serves a certificate that expired yesterday (signed by the endpoint CA)', 'certificate', 'expired'),
  define('cert-not-yet-valid', 'the TLS edge serves a certificate valid only from next month', 'certificate', 'not-yet-valid'),
  define('cert-wrong-host', 'the TLS edge serves a certificate for another hostname (wrong-host.invalid)', 'certificate', 'wrong-host'),
  define('cert-self-signed', 'the TLS edge serves a self-signed certificate (untrusted issuer)', 'certificate', 'self-signed'),
  define('cert-weak-key', 'the TLS edge serves a certificate with an RSA 1024-bit key', 'certificate', 'weak-key'),
  define('cert-sha1', 'the TLS edge serves a certificate signed with SHA-1', 'certificate', 'sha1'),
  define('tls-legacy', 'the TLS edge accepts TLS 1.0 and 1.1 (security level 0, CBC suites)', 'legacy-tls'),
  define('hsts-removed', 'the TLS edge stops sending Strict-Transport-Security', 'no-hsts'),
  define('http-no-redirect', 'the TLS edge serves plain HTTP instead of redirecting to HTTPS', 'no-redirect'),
];
