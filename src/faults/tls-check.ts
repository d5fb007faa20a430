// Independent looks at what the TLS edge serves, from outside the stack (the described endpoint): which
// certificate a TLS handshake sees, whether an old protocol version is accepted, what HTTP answers.

import { handshake, type HandshakeOptions, type HandshakeResult } from '../util/tls-handshake.js';
import { request, type SimpleResponse } from '../util/http.js';

export { handshake, signatureAlgorithm, type HandshakeOptions, type HandshakeResult } from '../util/tls-handshake.js';

/** Where a handshake goes: the endpoint's host, port and server name (SNI). */
export type HandshakeTarget = Pick<HandshakeOptions, 'host' | 'port' | 'servername'>;

/**
 * The handshake target of an endpoint URL (pure): its host (localhost as 127.0.0.1, where the stacks publish their
 * ports, so that a resolver preferring ::1 does not decide), its port, and the server name: `sni` or the URL's host.
 */
export function handshakeTarget(url: string, sni?: string): HandshakeTarget {
  const u = new URL(url);
  const name = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443;
  return { host: name === 'localhost' ? '127.0.0.1' : name, port, servername: sni ?? name };
}

/** The URL with localhost as 127.0.0.1 (pure), for the same reason as in handshakeTarget. */
export function loopbackUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === 'localhost') u.hostname = '127.0.0.1';
  return u.toString().replace(/\/+$/, '');
}

/** Tries a TLS 1.0 (or 1.1) handshake; OpenSSL 3 needs security level 0 on our side to even offer it. */
export function legacyHandshake(target: number | HandshakeTarget, version: 'TLSv1' | 'TLSv1.1', signal?: AbortSignal): Promise<HandshakeResult> {
  const where = typeof target === 'number' ? { port: target } : target;
  return handshake({ ...where, minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0', timeoutMs: 2000, ...(signal ? { signal } : {}) });
}

export async function httpGet(url: string, options: { ca?: string; servername?: string; signal?: AbortSignal } = {}): Promise<SimpleResponse | undefined> {
  try {
    return await request(url, {
      timeoutMs: 2000,
      ...(options.ca ? { ca: options.ca } : { insecure: true }),
      ...(options.servername ? { servername: options.servername } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch {
    return undefined;
  }
}
