// The stack's own certificate authority and the LB's certificate, and a general certificate issuer that
// the certificate faults reuse (expired, wrong host, self-signed, weak key, SHA-1).

import { generateKeyPairSync, X509Certificate, createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile, access } from 'node:fs/promises';
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
  /** For a CA: the only names and addresses it may sign (RFC 5280 name constraints, critical). */
  permitted?: PermittedNames;
  organization?: string;
}

/** What a name-constrained CA may sign: DNS names (each with its subdomains) and single IP addresses. */
export interface PermittedNames {
  dns: string[];
  ips: string[];
}

const DAY = 86_400_000;
/** The stack CA's life: a CA people import into a browser should not outlive its use by years. */
export const CA_LIFE_DAYS = 365;
/** A CA with less left than this is made anew (and with it the LB certificate). */
export const CA_RENEW_DAYS = 30;
const SITE_LIFE_DAYS = 90;
const SITE_RENEW_DAYS = 7;

/** A new RSA key from Node's native generator (forge's pure-JS one takes seconds for 2048 bits). */
function rsaKeyPem(bits: number): string {
  return generateKeyPairSync('rsa', {
    modulusLength: bits,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
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
  const hash = spec.hash ?? 'sha256';
  const oid = forge.pki.oids[hash === 'sha1' ? 'sha1WithRSAEncryption' : 'sha256WithRSAEncryption'] as string;
  cert.siginfo.algorithmOid = oid;
  cert.signatureOid = oid;
  const tbs = Buffer.from(
    forge.asn1.toDer((forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert)).getBytes(),
    'binary',
  );
  cert.signature = sign(hash, tbs, createPrivateKey(signingKeyPem)).toString('binary');
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

const NAME_CONSTRAINTS_OID = '2.5.29.30';
/** The hostname cert-wrong-host (src/faults) issues its certificate for. */
const WRONG_HOST = 'wrong-host.invalid';

function isIp(name: string): boolean {
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

async function exists(path: string): Promise<boolean> {
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
  // Signed by Node, as issueCertificate does (forge's pure-JS RSA signature is slow).
  const oid = forge.pki.oids.sha256WithRSAEncryption as string;
  cert.siginfo.algorithmOid = oid;
  cert.signatureOid = oid;
  const tbs = Buffer.from(
    forge.asn1.toDer((forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert)).getBytes(),
    'binary',
  );
  cert.signature = sign('sha256', tbs, createPrivateKey(ca.keyPem)).toString('binary');
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
