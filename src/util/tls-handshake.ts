// The one TLS client for looking at what a server presents (used by the TLS probe and by the certificate
// faults' checks), and the one decoder of a certificate's signature algorithm.

import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
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
      servername: o.servername ?? 'localhost',
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
