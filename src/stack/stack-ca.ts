// The stack's own certificate authority on disk (<stateDir>/tls) and the LB's certificate it signs: kept while fit,
// made anew when not, so a browser that trusted the CA keeps trusting it.

import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createCa,
  DAY,
  isIp,
  issueCertificate,
  permittedNamesOf,
  privateKeyOf,
  SITE_LIFE_DAYS,
  SITE_RENEW_DAYS,
  type KeyPair,
  type PermittedNames,
} from './x509.js';

/** A CA with less left than this is made anew (and with it the LB certificate). */
export const CA_RENEW_DAYS = 30;

/** The hostname cert-wrong-host (src/faults) issues its certificate for. */
const WRONG_HOST = 'wrong-host.invalid';

export function serverAltNames(domain: string): string[] {
  return [domain, `*.${domain}`, 'localhost', '127.0.0.1', '::1'];
}

/**
 * What the stack's CA may sign: the LB's names and addresses (a DNS constraint covers subdomains, so the
 * domain covers *.domain), and wrong-host.invalid, which cert-wrong-host signs so that clients see a
 * hostname mismatch, not a constraint violation (.invalid never resolves: permitting it opens nothing).
 * Nothing inside the stack is signed by this CA, so no internal name or address is permitted.
 */
export function caPermittedNames(domain: string): PermittedNames {
  const names = [...serverAltNames(domain).filter((n) => !n.startsWith('*.')), WRONG_HOST];
  return { dns: names.filter((n) => !isIp(n)), ips: names.filter(isIp) };
}

/**
 * Why an existing CA must be made anew, or undefined when it can stay (pure): it has no name constraints
 * or others than wanted (made by an older faultline, or for another domain), lives longer than two years,
 * or has less than CA_RENEW_DAYS left.
 */
export function caRenewalReason(certPem: string, wanted: PermittedNames, now = new Date()): string | undefined {
  const x = new X509Certificate(certPem);
  const permitted = permittedNamesOf(certPem);
  const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
  if (!permitted) return 'it has no name constraints';
  if (!same(permitted.dns, wanted.dns) || !same(permitted.ips, wanted.ips))
    return `its name constraints (${[...permitted.dns, ...permitted.ips].join(', ')}) are not the stack's`;
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  if (to - from > 2 * 366 * DAY) return `it lives ${Math.round((to - from) / DAY)} days`;
  if (to - now.getTime() < CA_RENEW_DAYS * DAY) return `it expires on ${x.validTo}`;
  return undefined;
}

export interface StackTls {
  dir: string;
  /** The folder mounted into the LB: holds site.pem (certificate + key) only. */
  lbDir: string;
  caPath: string;
  ca: KeyPair;
  site: KeyPair;
  /** SHA-256 fingerprint of the site certificate, as Node's X509Certificate prints it. */
  fingerprint: string;
  /** What this call made anew: the CA (with the reason) and/or the LB certificate. */
  renewed: { ca?: string; site: boolean };
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Makes the stack's CA and the LB certificate under <stateDir>/tls. The CA is kept while it is fit
 * (caRenewalReason), so a browser that trusted it keeps trusting it; the LB certificate is kept while it
 * has more than a week to live and was issued by the current CA. A new CA means a new LB certificate:
 * `renewed` says what was made, so a running LB can be restarted onto it.
 */
export async function ensureStackTls(dir: string, project: string, domain: string, now = new Date()): Promise<StackTls> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const caPath = join(dir, 'ca.pem');
  const wanted = caPermittedNames(domain);
  let ca: KeyPair | undefined;
  let caReason: string | undefined = 'there is none';
  if ((await exists(caPath)) && (await exists(join(dir, 'ca-key.pem')))) {
    const existing = { certPem: await readFile(caPath, 'utf8'), keyPem: await readFile(join(dir, 'ca-key.pem'), 'utf8') };
    caReason = caRenewalReason(existing.certPem, wanted, now);
    if (!caReason) ca = existing;
  }
  if (!ca) {
    ca = createCa(project, wanted, now);
    // The key first: a ca.pem never exists without the key that signed it.
    await writeFile(join(dir, 'ca-key.pem'), ca.keyPem, { mode: 0o600 });
    await chmod(join(dir, 'ca-key.pem'), 0o600);
    await writeFile(caPath, ca.certPem);
  }
  // Only the LB's own file is mounted into the LB (tls/lb), never the CA key.
  await mkdir(join(dir, 'lb'), { recursive: true });
  const sitePath = join(dir, 'lb', 'site.pem');
  let site: KeyPair | undefined;
  if (!caReason && (await exists(sitePath))) {
    const pem = await readFile(sitePath, 'utf8');
    const certPem = pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + '-----END CERTIFICATE-----'.length) + '\n';
    const keyPem = privateKeyOf(pem);
    const x = new X509Certificate(certPem);
    if (keyPem && new Date(x.validTo).getTime() - now.getTime() > SITE_RENEW_DAYS * DAY && x.checkIssued(new X509Certificate(ca.certPem)))
      site = { certPem, keyPem };
  }
  const renewed: StackTls['renewed'] = { ...(caReason ? { ca: caReason } : {}), site: site === undefined };
  if (!site) {
    const caEnd = Date.parse(new X509Certificate(ca.certPem).validTo);
    site = issueCertificate({
      commonName: domain,
      altNames: serverAltNames(domain),
      notBefore: new Date(now.getTime() - DAY),
      // Never past the CA's own end.
      notAfter: new Date(Math.min(now.getTime() + SITE_LIFE_DAYS * DAY, caEnd)),
      issuer: ca,
    });
    // HAProxy reads certificate and key from one file.
    await writeFile(sitePath, site.certPem + site.keyPem, { mode: 0o644 });
  }
  return { dir, lbDir: join(dir, 'lb'), caPath, ca, site, fingerprint: new X509Certificate(site.certPem).fingerprint256, renewed };
}
