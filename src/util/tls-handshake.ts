// The one TLS client for looking at what a server presents (used by the TLS probe and by the certificate
// faults' checks), a bare ClientHello for cipher suites this Node's OpenSSL cannot offer, and the one decoder
// of a certificate's signature algorithm.

import net from 'node:net';
import tls from 'node:tls';
import { randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

export interface HandshakeResult {
  ok: boolean;
  /** The negotiated version, e.g. TLSv1.3; null when there was no handshake. */
  protocol: string | null;
  cipher: tls.CipherNameAndProtocol | null;
  /** Whether the chain verifies against the CA given (the connection is made either way). */
  authorized: boolean;
  /** The verification error, e.g. CERT_HAS_EXPIRED; null when trusted. */
  authorizationError: string | null;
  certificate: X509Certificate | undefined;
  keyBits: number | undefined;
  /** Why there was no handshake: the error's code (ETIMEDOUT, ECONNRESET, ABORT_ERR, ERR_SSL_…), else its message. */
  error: string | undefined;
  /** The error's message, which for TLS failures carries OpenSSL's reason (e.g. "tlsv1 alert protocol version"). */
  errorMessage: string | undefined;
}

export interface HandshakeOptions {
  host?: string;
  port: number;
  servername?: string;
  ca?: string;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** OpenSSL cipher string; TLS 1.3 suite names (TLS_…) in it become the TLS 1.3 list (Node splits them). */
  ciphers?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const failed = (error: string, errorMessage: string): HandshakeResult => ({
  ok: false,
  protocol: null,
  cipher: null,
  authorized: false,
  authorizationError: null,
  certificate: undefined,
  keyBits: undefined,
  error,
  errorMessage,
});

/**
 * One TLS handshake that never throws: it reports what it saw (certificate, protocol, cipher, trust error)
 * or why it saw nothing. Verification is off on purpose so that an untrusted certificate can still be read.
 */
export function handshake(o: HandshakeOptions): Promise<HandshakeResult> {
  if (o.signal?.aborted) return Promise.resolve(failed('ABORT_ERR', 'aborted'));
  const timeoutMs = o.timeoutMs ?? 3000;
  return new Promise((resolve) => {
    let done = false;
    const socket = tls.connect({
      host: o.host ?? '127.0.0.1',
      port: o.port,
      // SNI carries a name only (RFC 6066): for an IP address, none is sent.
      ...(net.isIP(o.servername ?? '') ? {} : { servername: o.servername ?? 'localhost' }),
      ...(o.ca ? { ca: o.ca } : {}),
      rejectUnauthorized: false,
      ...(o.minVersion ? { minVersion: o.minVersion } : {}),
      ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
      ...(o.ciphers ? { ciphers: o.ciphers } : {}),
    });
    const finish = (r: HandshakeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => finish(failed('ABORT_ERR', 'aborted'));
    const timer = setTimeout(() => finish(failed('ETIMEDOUT', `no handshake within ${timeoutMs} ms`)), timeoutMs);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      finish({
        ok: true,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher(),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
        certificate: socket.getPeerX509Certificate(),
        keyBits: typeof peer.bits === 'number' ? peer.bits : undefined,
        error: undefined,
        errorMessage: undefined,
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => finish(failed(err.code ?? err.message, err.message)));
    // A server that hangs up without an alert: say so now rather than wait for the timeout.
    socket.once('close', () => finish(failed('ECONNRESET', 'closed by the server during the handshake')));
  });
}

/** The names reports use; other OIDs are looked up in forge's table, else shown as the OID itself. */
const SIGNATURE_OIDS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'Ed25519',
};

/**
 * A certificate's signature algorithm, e.g. "sha1WithRSAEncryption" (Node's X509Certificate does not say).
 * Read from the DER's outer AlgorithmIdentifier, so it works for any key type (forge's certificate parser
 * knows only RSA keys); null when the DER cannot be read.
 */
export function signatureAlgorithm(cert: X509Certificate | Buffer): string | null {
  const der = cert instanceof X509Certificate ? cert.raw : cert;
  try {
    const asn = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    const algorithm = (asn.value as forge.asn1.Asn1[])[1];
    const oidNode = (algorithm?.value as forge.asn1.Asn1[] | undefined)?.[0];
    if (!oidNode || typeof oidNode.value !== 'string') return null;
    const oid = forge.asn1.derToOid(oidNode.value);
    return SIGNATURE_OIDS[oid] ?? (forge.pki.oids[oid] as string | undefined) ?? oid;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// A bare ClientHello. Builds of OpenSSL 3 leave out 3DES, RC4, DES, IDEA, SEED and the export suites, so Node
// cannot offer them in a real handshake; a server that still accepts one says so in its ServerHello, which is
// all this reads (as testssl.sh does with its bash sockets). No key exchange happens: the connection is
// dropped right after the ServerHello.

/** TLS 1.0, 1.1 and 1.2 as ClientHello versions (TLS 1.3 needs a key share: use `handshake` for it). */
export const HELLO_VERSIONS = { TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303 } as const;
export type HelloVersion = keyof typeof HELLO_VERSIONS;

const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const withLength16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const extension = (type: number, body: Buffer) => Buffer.concat([u16(type), withLength16(body)]);
const list16 = (values: number[]) => withLength16(Buffer.concat(values.map(u16)));

// x25519, secp256r1, secp384r1, secp521r1, x448, ffdhe2048, ffdhe3072: what servers pick ECDHE/DHE groups from.
const GROUPS = [0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0x0101];
// RSA-PSS, PKCS#1 and ECDSA with SHA-2, Ed25519, then the SHA-1 and DSA ones a legacy server may need.
const SIGNATURE_SCHEMES = [0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0603, 0x0807, 0x0201, 0x0203, 0x0402, 0x0202];
/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV: some servers refuse a hello that does not show secure renegotiation. */
const RENEGOTIATION_SCSV = 0x00ff;

/** The bytes of one ClientHello record offering exactly `suites` (plus the renegotiation SCSV). Pure but for the random. */
export function clientHello(o: { version: HelloVersion; suites: number[]; servername?: string }): Buffer {
  const exts: Buffer[] = [];
  if (o.servername && net.isIP(o.servername) === 0) {
    const name = Buffer.from(o.servername, 'ascii');
    exts.push(extension(0x0000, withLength16(Buffer.concat([Buffer.from([0]), withLength16(name)]))));
  }
  exts.push(extension(0x000a, list16(GROUPS)), extension(0x000b, Buffer.from([1, 0])), extension(0x0017, Buffer.alloc(0)));
  if (o.version === 'TLSv1.2') exts.push(extension(0x000d, list16(SIGNATURE_SCHEMES)));
  const body = Buffer.concat([
    u16(HELLO_VERSIONS[o.version]),
    randomBytes(32),
    Buffer.from([0]), // no session id
    list16([...o.suites, RENEGOTIATION_SCSV]),
    Buffer.from([1, 0]), // compression: null only
    withLength16(Buffer.concat(exts)),
  ]);
  const handshakeMsg = Buffer.concat([Buffer.from([1, (body.length >> 16) & 0xff]), u16(body.length & 0xffff), body]);
  // Record version 1.0: what clients send in the first record, so old servers do not drop it.
  return Buffer.concat([Buffer.from([0x16]), u16(0x0301), withLength16(handshakeMsg)]);
}

export type ServerHelloReply =
  | { kind: 'hello'; version: number; suite: number }
  | { kind: 'alert'; alert: number }
  /** Not enough bytes yet to tell. */
  | { kind: 'partial' }
  | { kind: 'garbage'; detail: string };

/** Reads the server's first flight: its ServerHello's version and chosen suite, or its alert (pure). */
export function parseServerHello(b: Buffer): ServerHelloReply {
  if (b.length < 5) return { kind: 'partial' };
  const type = b[0]!;
  if (type === 0x15) return b.length < 7 ? { kind: 'partial' } : { kind: 'alert', alert: b[6]! };
  if (type !== 0x16) return { kind: 'garbage', detail: `record type ${type}` };
  if (b.length < 9) return { kind: 'partial' };
  if (b[5] !== 2) return { kind: 'garbage', detail: `handshake message ${b[5]} before a ServerHello` };
  // record header 5, handshake header 4, version 2, random 32, then the session id's length.
  if (b.length < 44) return { kind: 'partial' };
  const sidEnd = 44 + b[43]!;
  if (b.length < sidEnd + 2) return { kind: 'partial' };
  return { kind: 'hello', version: b.readUInt16BE(9), suite: b.readUInt16BE(sidEnd) };
}

export interface HelloResult {
  /** The server chose the one suite offered, at the version asked for. */
  accepted: boolean;
  /** refused: an alert or a hang-up; error: no answer, a connection error, or bytes that are not TLS. */
  outcome: 'accepted' | 'refused' | 'error';
  detail: string | null;
}

/** Offers one cipher suite in a bare ClientHello and reads the answer; never throws. */
export function helloOffer(o: {
  host?: string;
  port: number;
  servername?: string;
  version: HelloVersion;
  suite: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}): Promise<HelloResult> {
  if (o.signal?.aborted) return Promise.resolve({ accepted: false, outcome: 'error', detail: 'ABORT_ERR' });
  const timeoutMs = o.timeoutMs ?? 3000;
  return new Promise((resolve) => {
    let done = false;
    let got = Buffer.alloc(0);
    const socket = net.connect({ host: o.host ?? '127.0.0.1', port: o.port });
    const finish = (outcome: HelloResult['outcome'], detail: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ accepted: outcome === 'accepted', outcome, detail });
    };
    const onAbort = () => finish('error', 'ABORT_ERR');
    const timer = setTimeout(() => finish('error', 'ETIMEDOUT'), timeoutMs);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => socket.write(clientHello({ version: o.version, suites: [o.suite], ...(o.servername ? { servername: o.servername } : {}) })));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      const r = parseServerHello(got);
      if (r.kind === 'partial') return;
      if (r.kind === 'alert') finish('refused', `alert ${r.alert}`);
      else if (r.kind === 'garbage') finish('error', r.detail);
      else if (r.suite === o.suite && r.version === HELLO_VERSIONS[o.version]) finish('accepted', null);
      // A server that answers with another version or suite than the one offered did not accept it here.
      else finish('refused', `server chose 0x${r.suite.toString(16).padStart(4, '0')} at 0x${r.version.toString(16)}`);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNRESET' ? 'refused' : 'error', err.code ?? err.message));
    socket.once('close', () => finish('refused', 'closed without a ServerHello'));
  });
}
