// The hardened profile's TLS inside the stack: a CA of its own for the inside names, and a certificate per server.

import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import { caRenewalReason, exists, type StackTls } from './stack-ca.js';
import { createCa, DAY, isIp, rsaKeyPem, serial, signWithNode, SITE_LIFE_DAYS, SITE_RENEW_DAYS, type KeyPair, type PermittedNames } from './x509.js';

/** What a node certificate is for: its own name, and every name and address clients or peers dial it by. */
export interface NodeCertificateSpec {
  /** The node's name (e.g. galera1): the certificate's common name and first DNS name. */
  name: string;
  /** Further DNS names and IP addresses (IPs recognised by their shape), e.g. the node's address and the LB's. */
  altNames: string[];
  notBefore?: Date;
  /** Default: 90 days after notBefore, never past the CA's own end. */
  notAfter?: Date;
}

/**
 * A certificate for one server inside a stack, such as a Galera data node (the hardened profile's database
 * tier): TLS server for its clients and for the peers that connect to it, and TLS client when it connects
 * to its peers (Galera's group and IST connections and mariabackup's SST stream present the node's own
 * certificate, and OpenSSL checks the purpose of both ends), so it carries serverAuth and clientAuth.
 * Sign it with a CA of its own for the inside (createCa with the internal names permitted), never with the
 * stack's CA: that one may sign only the public names (caPermittedNames), so a verifier would refuse it.
 * Apart from its two purposes it is what issueCertificate makes; that function is left as it is.
 */
export function issueNodeCertificate(ca: KeyPair, spec: NodeCertificateSpec, now = new Date()): KeyPair {
  const keyPem = rsaKeyPem(2048);
  const notBefore = spec.notBefore ?? new Date(now.getTime() - DAY);
  const caEnd = Date.parse(new X509Certificate(ca.certPem).validTo);
  const notAfter = spec.notAfter ?? new Date(Math.min(notBefore.getTime() + SITE_LIFE_DAYS * DAY, caEnd));
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([
    { name: 'commonName', value: spec.name },
    { name: 'organizationName', value: 'faultline' },
  ]);
  cert.setIssuer(forge.pki.certificateFromPem(ca.certPem).subject.attributes);
  const names = [spec.name, ...spec.altNames.filter((n) => n !== spec.name)];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (isIp(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
    { name: 'subjectKeyIdentifier' },
  ]);
  signWithNode(cert, 'sha256', ca.keyPem);
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

/** A server inside the hardened stack and the names it is dialled by. */
export interface InternalServer {
  name: string;
  altNames: string[];
  /** File names in its folder: web servers read server.pem, Galera nodes node.pem. */
  files: { cert: string; key: string };
}

/** The hardened profile's servers that serve TLS inside the stack (pure). */
export function internalServers(netPrefix: string): InternalServer[] {
  const web = [1, 2, 3].map((i) => ({ name: `web${i}`, altNames: [`${netPrefix}.2${i}`], files: { cert: 'server.pem', key: 'server-key.pem' } }));
  // Clients dial the database LB (its name and address), which hands the session to whichever node writes: every
  // node's certificate is valid for the LB's names too.
  const db = [1, 2, 3].map((i) => ({
    name: `galera${i}`,
    altNames: [`${netPrefix}.3${i}`, 'db-lb', `${netPrefix}.30`, 'localhost', '127.0.0.1'],
    files: { cert: 'node.pem', key: 'node-key.pem' },
  }));
  return [...web, ...db];
}

/** What the internal CA may sign: the inside servers' names and addresses, nothing public (pure). */
export function internalPermittedNames(netPrefix: string): PermittedNames {
  const names = [...new Set(internalServers(netPrefix).flatMap((s) => [s.name, ...s.altNames]))];
  return { dns: names.filter((n) => !isIp(n)), ips: names.filter(isIp) };
}

/**
 * The hardened profile's internal TLS under <stateDir>/tls/internal: a CA of its own (name-constrained to the
 * stack's inside names), a folder per server with its certificate, key and the CA (mounted into that server
 * only), app/ca.pem for the apps' database sessions, and internal-ca.pem beside the LB's certificate for its
 * re-encryption to the web servers. Kept while fit, like the stack's CA; `renewed` names what was made.
 */
export async function ensureInternalTls(
  dir: string,
  stack: Pick<StackTls, 'lbDir'>,
  project: string,
  netPrefix: string,
  now = new Date(),
): Promise<{ caPath: string; renewed: string[] }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caPath = join(dir, 'ca.pem');
  const wanted = internalPermittedNames(netPrefix);
  let ca: KeyPair | undefined;
  if ((await exists(caPath)) && (await exists(join(dir, 'ca-key.pem')))) {
    const existing = { certPem: await readFile(caPath, 'utf8'), keyPem: await readFile(join(dir, 'ca-key.pem'), 'utf8') };
    if (!caRenewalReason(existing.certPem, wanted, now)) ca = existing;
  }
  const renewed: string[] = [];
  if (!ca) {
    ca = createCa(`${project} internal`, wanted, now);
    await writeFile(join(dir, 'ca-key.pem'), ca.keyPem, { mode: 0o600 });
    await writeFile(caPath, ca.certPem);
    renewed.push('the internal CA');
  }
  const caX = new X509Certificate(ca.certPem);
  // The folders are mounted into containers whose servers may run as another user: readable inside, while the
  // state folder above them stays 0700 on the host.
  for (const s of internalServers(netPrefix)) {
    const sub = join(dir, s.name);
    await mkdir(sub, { recursive: true, mode: 0o755 });
    const certPath = join(sub, s.files.cert);
    if (await exists(certPath)) {
      const x = new X509Certificate(await readFile(certPath, 'utf8'));
      if (x.checkIssued(caX) && new Date(x.validTo).getTime() - now.getTime() > SITE_RENEW_DAYS * DAY) continue;
    }
    const pair = issueNodeCertificate(ca, { name: s.name, altNames: s.altNames }, now);
    await writeFile(join(sub, s.files.key), pair.keyPem, { mode: 0o644 });
    await writeFile(certPath, pair.certPem, { mode: 0o644 });
    await writeFile(join(sub, 'ca.pem'), ca.certPem, { mode: 0o644 });
    renewed.push(s.name);
  }
  await mkdir(join(dir, 'app'), { recursive: true, mode: 0o755 });
  await writeFile(join(dir, 'app', 'ca.pem'), ca.certPem, { mode: 0o644 });
  await writeFile(join(stack.lbDir, 'internal-ca.pem'), ca.certPem, { mode: 0o644 });
  return { caPath, renewed };
}
