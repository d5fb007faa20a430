// The bad certificates of the certificate faults (pure, given the issuing CA), the names they are made for (from
// the described endpoint), and the CA that signs them: the endpoint's CA with the key stack.edge.ca_key names.

import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FaultlineError } from '../errors.js';
import { issueCertificate, type KeyPair } from '../stack/tls.js';
import type { EndpointSpec } from '../stack/spec.js';
import type { FaultContext } from './types.js';

export type CertVariant = 'expired' | 'not-yet-valid' | 'wrong-host' | 'self-signed' | 'weak-key' | 'sha1';
const DAY = 86_400_000;

/** The hostname cert-wrong-host issues its certificate for (the reference stack's CA permits it: stack-ca.ts). */
export const WRONG_HOST = 'wrong-host.invalid';

/** Variants signed by the endpoint's CA, so that only the named flaw differs from a trusted certificate. */
export const needsCa = (variant: CertVariant): boolean => variant !== 'self-signed';

export function certOf(pem: string): X509Certificate {
  const end = pem.indexOf('-----END CERTIFICATE-----');
  if (end < 0) throw new FaultlineError('INVALID_INPUT', 'the edge certificate file holds no certificate');
  return new X509Certificate(pem.slice(0, end + '-----END CERTIFICATE-----'.length));
}

/** The subject alternative names of a certificate as plain names and addresses (pure). */
export function altNamesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .map((e) => /^(?:DNS|IP Address):(.+)$/.exec(e.trim())?.[1])
    .filter((n): n is string => Boolean(n));
}

/**
 * The names a bad certificate is made for (pure): the endpoint's (its SNI, its URL's host, its other hostnames),
 * then those of the certificate it replaces, so that nothing but the fault's flaw differs. The common name is the
 * current one when the endpoint's names include it.
 */
export function certificateNames(
  endpoint: Pick<EndpointSpec, 'url' | 'sni' | 'hostnames'>,
  current?: X509Certificate,
): { commonName: string; altNames: string[] } {
  const host = new URL(endpoint.url).hostname.replace(/^\[|\]$/g, '');
  const own = [endpoint.sni, host, ...endpoint.hostnames].filter((n): n is string => Boolean(n));
  const altNames = [...new Set([...own, ...(current ? altNamesOf(current) : [])])];
  const cn = current ? /(?:^|\n)CN=([^\n]+)/.exec(current.subject)?.[1] : undefined;
  return { commonName: cn && altNames.includes(cn) ? cn : own[0]!, altNames };
}

/**
 * The bad certificate for each variant: everything else as the real one, so only the named flaw differs. It keeps
 * the edge's own key (`keyPem`, when given) except for the weak-key variant: no key to make, so the swap costs one
 * signature (~10 ms) instead of a 2048-bit key (150-600 ms on a busy machine). `issuer` is required except for
 * self-signed.
 */
export function issueBadCertificate(
  variant: CertVariant,
  names: { commonName: string; altNames: string[] },
  issuer: KeyPair | undefined,
  now = Date.now(),
  keyPem?: string,
): KeyPair {
  const base = { ...names, notBefore: new Date(now - DAY), notAfter: new Date(now + 90 * DAY), ...(keyPem ? { keyPem } : {}) }; // past every "expires soon" threshold (testssl.sh: 30 days)
  const signed = () => {
    if (!issuer) throw new FaultlineError('INTERNAL', `a ${variant} certificate needs the issuing CA`);
    return issuer;
  };
  switch (variant) {
    case 'expired':
      return issueCertificate({ ...base, notBefore: new Date(now - 60 * DAY), notAfter: new Date(now - DAY), issuer: signed() });
    case 'not-yet-valid':
      return issueCertificate({ ...base, notBefore: new Date(now + 30 * DAY), notAfter: new Date(now + 120 * DAY), issuer: signed() });
    case 'wrong-host':
      return issueCertificate({ ...base, commonName: WRONG_HOST, altNames: [WRONG_HOST], issuer: signed() });
    case 'self-signed':
      return issueCertificate({ ...base, organization: 'untrusted issuer' });
    case 'weak-key':
      return issueCertificate({ ...base, keyPem: undefined, keyBits: 1024, issuer: signed() });
    case 'sha1':
      return issueCertificate({ ...base, hash: 'sha1', issuer: signed() });
  }
}

const spki = (key: Parameters<typeof createPublicKey>[0]) => createPublicKey(key).export({ type: 'spki', format: 'der' });

/**
 * The CA that signed the endpoint: its certificate (stack.endpoint.ca) and its key (stack.edge.ca_key), checked to be
 * a pair. Refused in one line when either is not declared or cannot be read.
 */
export async function signingCa(ctx: FaultContext, fault: string): Promise<KeyPair> {
  const file = ctx.stack.spec.file;
  const keyPath = ctx.stack.spec.edge?.ca_key;
  const others = 'cert-self-signed and the configuration faults need no CA key';
  if (!keyPath)
    throw new FaultlineError('INVALID_INPUT', `${fault} signs with the endpoint's CA, and ${file} names no key for it (stack.edge.ca_key); ${others}`);
  const certPem = await ctx.stack.ca();
  if (!certPem) throw new FaultlineError('INVALID_INPUT', `${fault} signs with the endpoint's CA, and ${file} names none (stack.endpoint.ca); ${others}`);
  let keyPem: string;
  try {
    keyPem = await readFile(keyPath, 'utf8');
  } catch (err) {
    throw new FaultlineError(
      'INVALID_INPUT',
      `${fault}: stack.edge.ca_key: cannot read ${keyPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; ${others}`,
      { cause: err },
    );
  }
  let paired: boolean;
  try {
    paired = spki(keyPem).equals(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }));
  } catch (err) {
    throw new FaultlineError('INVALID_INPUT', `${fault}: stack.edge.ca_key: ${keyPath} is not a PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (!paired) throw new FaultlineError('INVALID_INPUT', `${fault}: stack.edge.ca_key: ${keyPath} is not the key of the CA in stack.endpoint.ca`);
  return { certPem, keyPem };
}
