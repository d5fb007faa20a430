// Independent looks at what the LB serves, from outside the stack (its published loopback ports): which
// certificate a TLS handshake sees, whether an old protocol version is accepted, what HTTP answers.

import tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { request, type SimpleResponse } from '../util/http.js';

export interface HandshakeResult {
  ok: boolean;
  protocol: string | null;
  /** The verification error with the stack's CA, e.g. CERT_HAS_EXPIRED; null when trusted. */
  authorizationError: string | null;
  certificate: X509Certificate | undefined;
  keyBits: number | undefined;
  error: string | undefined;
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

/** One TLS handshake that never throws: it reports what it saw (certificate, protocol, trust error). */
export function handshake(o: HandshakeOptions): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    let done = false;
    const onAbort = () => finish({ ok: false, protocol: null, authorizationError: null, certificate: undefined, keyBits: undefined, error: 'aborted' }, socket);
    const finish = (r: HandshakeResult, socket: tls.TLSSocket) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
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
    const timer = setTimeout(
      () => finish({ ok: false, protocol: null, authorizationError: null, certificate: undefined, keyBits: undefined, error: 'ETIMEDOUT' }, socket),
      o.timeoutMs ?? 3000,
    );
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      finish(
        {
          ok: true,
          protocol: socket.getProtocol(),
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
          certificate: socket.getPeerX509Certificate(),
          keyBits: typeof peer.bits === 'number' ? peer.bits : undefined,
          error: undefined,
        },
        socket,
      );
    });
    socket.once('error', (err) =>
      finish({ ok: false, protocol: null, authorizationError: null, certificate: undefined, keyBits: undefined, error: (err as NodeJS.ErrnoException).code ?? err.message }, socket),
    );
  });
}

/** Tries a TLS 1.0 (or 1.1) handshake; OpenSSL 3 needs security level 0 on our side to even offer it. */
export function legacyHandshake(port: number, version: 'TLSv1' | 'TLSv1.1', signal?: AbortSignal): Promise<HandshakeResult> {
  return handshake({ port, minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0', timeoutMs: 2000, ...(signal ? { signal } : {}) });
}

export async function httpGet(url: string, options: { ca?: string; signal?: AbortSignal } = {}): Promise<SimpleResponse | undefined> {
  try {
    return await request(url, { timeoutMs: 2000, ...(options.ca ? { ca: options.ca } : { insecure: true }), ...(options.signal ? { signal: options.signal } : {}) });
  } catch {
    return undefined;
  }
}

/** The certificate's signature algorithm, e.g. "sha1WithRSAEncryption" (Node's X509Certificate does not say). */
export function signatureAlgorithm(cert: X509Certificate): string {
  const oid = forge.pki.certificateFromPem(cert.toString()).siginfo.algorithmOid;
  return forge.pki.oids[oid] ?? oid;
}
