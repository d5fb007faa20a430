// The stack's own certificate authority and the LB's certificate, and a general certificate issuer that
// the certificate faults reuse (expired, wrong host, self-signed, weak key, SHA-1).

import { generateKeyPairSync, X509Certificate, createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';

export interface KeyPair {
  keyPem: string;
  certPem: string;
}

export interface CertificateSpec {
  commonName: string;
  /** DNS names and IP addresses; IPs are recognised by their shape. */
  altNames: string[];
  notBefore: Date;
  notAfter: Date;
  keyBits?: number;
  /** Reuse this private key (PEM) instead of making one: a certificate fault changes only what it names. */
  keyPem?: string;
  hash?: 'sha256' | 'sha1';
  /** Signs with this CA; self-signed when absent. */
  issuer?: KeyPair;
  isCa?: boolean;
  organization?: string;
}

const DAY = 86_400_000;

/** A new RSA key from Node's native generator (forge's pure-JS one takes seconds for 2048 bits). */
function rsaKeyPem(bits: number): string {
  return generateKeyPairSync('rsa', { modulusLength: bits, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
}

function serial(): string {
  // Positive 16-byte serial (leading nibble < 8 keeps it positive in DER).
  const hex = forge.util.bytesToHex(forge.random.getBytesSync(16));
  return `${(parseInt(hex[0]!, 16) & 0x7).toString(16)}${hex.slice(1)}`;
}

/** Issues a certificate as described; pure apart from randomness. */
export function issueCertificate(spec: CertificateSpec): KeyPair {
  const keyPem = spec.keyPem ?? rsaKeyPem(spec.keyBits ?? 2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = serial();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const subject = [
    { name: 'commonName', value: spec.commonName },
    { name: 'organizationName', value: spec.organization ?? 'faultline' },
  ];
  cert.setSubject(subject);
  const signingKeyPem = spec.issuer ? spec.issuer.keyPem : keyPem;
  if (spec.issuer) {
    cert.setIssuer(forge.pki.certificateFromPem(spec.issuer.certPem).subject.attributes);
  } else {
    cert.setIssuer(subject);
  }
  const extensions: object[] = [];
  if (spec.isCa) {
    extensions.push({ name: 'basicConstraints', cA: true, critical: true });
    extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  } else {
    extensions.push({ name: 'basicConstraints', cA: false });
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
    extensions.push({
      name: 'subjectAltName',
      altNames: spec.altNames.map((n) => (/^[\d.]+$/.test(n) || n.includes(':') ? { type: 7, ip: n } : { type: 2, value: n })),
    });
  }
  extensions.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(extensions);
  // forge builds the certificate; Node signs it (forge's pure-JS RSA signature costs ~100-300 ms here).
  const hash = spec.hash ?? 'sha256';
  const oid = forge.pki.oids[hash === 'sha1' ? 'sha1WithRSAEncryption' : 'sha256WithRSAEncryption'] as string;
  cert.siginfo.algorithmOid = oid;
  cert.signatureOid = oid;
  const tbs = Buffer.from(forge.asn1.toDer((forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert)).getBytes(), 'binary');
  cert.signature = sign(hash, tbs, createPrivateKey(signingKeyPem)).toString('binary');
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

export function createCa(name: string, now = new Date()): KeyPair {
  return issueCertificate({
    commonName: `faultline CA (${name})`,
    altNames: [],
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 3650 * DAY),
    isCa: true,
  });
}

export function serverAltNames(domain: string): string[] {
  return [domain, `*.${domain}`, 'localhost', '127.0.0.1', '::1'];
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
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Makes (once) the stack's CA and the LB certificate under <stateDir>/tls; reuses them while the site
 * certificate has more than a week to live, so browsers that trusted the CA keep trusting it.
 */
export async function ensureStackTls(dir: string, project: string, domain: string, now = new Date()): Promise<StackTls> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caPath = join(dir, 'ca.pem');
  let ca: KeyPair;
  if ((await exists(caPath)) && (await exists(join(dir, 'ca-key.pem')))) {
    ca = { certPem: await readFile(caPath, 'utf8'), keyPem: await readFile(join(dir, 'ca-key.pem'), 'utf8') };
  } else {
    ca = createCa(project, now);
    await writeFile(join(dir, 'ca-key.pem'), ca.keyPem, { mode: 0o600 });
    await writeFile(caPath, ca.certPem);
  }
  // Only the LB's own file is mounted into the LB (tls/lb), never the CA key.
  await mkdir(join(dir, 'lb'), { recursive: true });
  const sitePath = join(dir, 'lb', 'site.pem');
  let site: KeyPair | undefined;
  if (await exists(sitePath)) {
    const pem = await readFile(sitePath, 'utf8');
    const certPem = pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + '-----END CERTIFICATE-----'.length) + '\n';
    const keyPem = privateKeyOf(pem);
    const x = new X509Certificate(certPem);
    if (keyPem && new Date(x.validTo).getTime() - now.getTime() > 7 * DAY && x.checkIssued(new X509Certificate(ca.certPem))) site = { certPem, keyPem };
  }
  if (!site) {
    site = issueCertificate({
      commonName: domain,
      altNames: serverAltNames(domain),
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 90 * DAY),
      issuer: ca,
    });
    // HAProxy reads certificate and key from one file.
    await writeFile(sitePath, site.certPem + site.keyPem, { mode: 0o644 });
  }
  return { dir, lbDir: join(dir, 'lb'), caPath, ca, site, fingerprint: new X509Certificate(site.certPem).fingerprint256 };
}

/** The private key in a combined PEM (HAProxy's certificate + key file); undefined when there is none. */
export function privateKeyOf(pem: string): string | undefined {
  // The file's own line ending is kept (forge wrote CRLF, Node writes LF).
  const m = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END \1?PRIVATE KEY-----(\r?\n)?/.exec(pem);
  if (!m) return undefined;
  return m[2] ? m[0] : `${m[0]}\n`;
}

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
