// A pure X.509 issuer: keys, certificates (also CAs with RFC 5280 name constraints), and the small readers of
// PEM files that the stack's CA, the hardened profile's internal TLS and the certificate faults share.

import { generateKeyPairSync, X509Certificate, createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
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
  /** For a CA: the only names and addresses it may sign (RFC 5280 name constraints, critical). */
  permitted?: PermittedNames;
  organization?: string;
}

/** What a name-constrained CA may sign: DNS names (each with its subdomains) and single IP addresses. */
export interface PermittedNames {
  dns: string[];
  ips: string[];
}

export const DAY = 86_400_000;
/** The stack CA's life: a CA people import into a browser should not outlive its use by years. */
export const CA_LIFE_DAYS = 365;
/** The life of a server certificate faultline issues, and how long before its end it is made anew. */
export const SITE_LIFE_DAYS = 90;
export const SITE_RENEW_DAYS = 7;

/** A new RSA key from Node's native generator (forge's pure-JS one takes seconds for 2048 bits). */
export function rsaKeyPem(bits: number): string {
  return generateKeyPairSync('rsa', {
    modulusLength: bits,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
}

export function serial(): string {
  // Positive 16-byte serial (leading nibble < 8 keeps it positive in DER).
  const hex = forge.util.bytesToHex(forge.random.getBytesSync(16));
  return `${(parseInt(hex[0]!, 16) & 0x7).toString(16)}${hex.slice(1)}`;
}

/** Signs a certificate forge built with Node's crypto (forge's pure-JS RSA signature costs ~100-300 ms here). */
export function signWithNode(cert: forge.pki.Certificate, hash: 'sha256' | 'sha1', keyPem: string): void {
  const oid = forge.pki.oids[hash === 'sha1' ? 'sha1WithRSAEncryption' : 'sha256WithRSAEncryption'] as string;
  cert.siginfo.algorithmOid = oid;
  cert.signatureOid = oid;
  const tbs = Buffer.from(
    forge.asn1.toDer((forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert)).getBytes(),
    'binary',
  );
  cert.signature = sign(hash, tbs, createPrivateKey(keyPem)).toString('binary');
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
    if (spec.permitted) extensions.push({ id: NAME_CONSTRAINTS_OID, critical: true, value: nameConstraintsAsn1(spec.permitted) });
  } else {
    extensions.push({ name: 'basicConstraints', cA: false });
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
    extensions.push({
      name: 'subjectAltName',
      altNames: spec.altNames.map((n) => (isIp(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    });
  }
  extensions.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(extensions);
  // forge builds the certificate; Node signs it (forge's pure-JS RSA signature costs ~100-300 ms here).
  signWithNode(cert, spec.hash ?? 'sha256', signingKeyPem);
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

const NAME_CONSTRAINTS_OID = '2.5.29.30';

export function isIp(name: string): boolean {
  return /^[\d.]+$/.test(name) || name.includes(':');
}

/** An IP address as bytes (IPv4 or IPv6, "::" expanded). */
function ipBytes(ip: string): number[] {
  if (!ip.includes(':')) return ip.split('.').map(Number);
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = ip.includes('::') ? groups(tail) : [];
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees }; each IP is a host (all-ones mask). */
function nameConstraintsAsn1(p: PermittedNames): forge.asn1.Asn1 {
  const { asn1 } = forge;
  const subtree = (base: forge.asn1.Asn1) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [base]);
  const dns = p.dns.map((d) => subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, d)));
  const ips = p.ips.map((ip) => {
    const bytes = ipBytes(ip);
    const octets = String.fromCharCode(...bytes, ...bytes.map(() => 0xff));
    return subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, octets));
  });
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [...dns, ...ips])]);
}

/** The name constraints a certificate carries (permitted subtrees), or undefined when it has none. Pure. */
export function permittedNamesOf(certPem: string): PermittedNames | undefined {
  const ext = forge.pki.certificateFromPem(certPem).getExtension('nameConstraints') as unknown as {
    permittedSubtrees?: Array<{ type: number; value: string }>;
    excludedSubtrees?: unknown[];
  } | null;
  if (!ext?.permittedSubtrees) return undefined;
  const dns = ext.permittedSubtrees.filter((s) => s.type === 2).map((s) => s.value);
  const ips = ext.permittedSubtrees
    .filter((s) => s.type === 7)
    .map((s) => {
      const bytes = [...s.value].map((c) => c.charCodeAt(0)).slice(0, s.value.length / 2);
      if (bytes.length === 4) return bytes.join('.');
      const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
      return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
    });
  return { dns, ips };
}

/** A CA for a year; with `permitted`, it can sign nothing else (the stack's CA always has them). */
export function createCa(name: string, permitted?: PermittedNames, now = new Date()): KeyPair {
  return issueCertificate({
    commonName: `faultline CA (${name})`,
    altNames: [],
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + CA_LIFE_DAYS * DAY),
    isCa: true,
    ...(permitted ? { permitted } : {}),
  });
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
