// Independent looks at what the LB serves, from outside the stack (its published loopback ports): which
// certificate a TLS handshake sees, whether an old protocol version is accepted, what HTTP answers.

import { handshake, type HandshakeResult } from '../util/tls-handshake.js';
import { request, type SimpleResponse } from '../util/http.js';

export { handshake, signatureAlgorithm, type HandshakeOptions, type HandshakeResult } from '../util/tls-handshake.js';

/** Tries a TLS 1.0 (or 1.1) handshake; OpenSSL 3 needs security level 0 on our side to even offer it. */
export function legacyHandshake(port: number, version: 'TLSv1' | 'TLSv1.1', signal?: AbortSignal): Promise<HandshakeResult> {
  return handshake({ port, minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0', timeoutMs: 2000, ...(signal ? { signal } : {}) });
}

export async function httpGet(url: string, options: { ca?: string; signal?: AbortSignal } = {}): Promise<SimpleResponse | undefined> {
  try {
    return await request(url, {
      timeoutMs: 2000,
      ...(options.ca ? { ca: options.ca } : { insecure: true }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch {
    return undefined;
  }
}
