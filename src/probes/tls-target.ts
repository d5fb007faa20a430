// Where the TLS probe looks and what it trusts: an https URL with a CA, Node's default trust store or no
// verification at all, given on the command line or taken from a stack description's endpoint.

import { invalidInput } from '../errors.js';
import type { AttachedStack } from '../stack/attached-stack.js';

export interface TlsTarget {
  /** The address connected to. */
  host: string;
  port: number;
  /** SNI, and the first name the certificate must be valid for. */
  servername: string;
  /** PEM the chain is verified against; without it (and not insecure), Node's default trust store. */
  ca?: string;
  /** No verification at all: an explicit choice, so no untrusted-chain finding. */
  insecure: boolean;
  httpsUrl: string;
  /** The plain-HTTP entry whose redirect to HTTPS is checked; none, no check. */
  httpUrl?: string;
  /** Names the certificate must be valid for (the servername first). */
  hostnames: string[];
}

export interface TargetOptions {
  ca?: string;
  insecure?: boolean;
  sni?: string;
  hostnames?: string[];
  httpUrl?: string;
}

/** A target from an https URL (pure): bad input is INVALID_INPUT, named after the flag that carries it. */
export function tlsTarget(url: string, o: TargetOptions = {}): TlsTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidInput('url', `${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'https:') throw invalidInput('url', `the TLS probe needs an https:// URL, got ${u.protocol}//`);
  if (o.ca && o.insecure) throw invalidInput('insecure', 'give either a CA (--ca) or --insecure, not both');
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  const servername = o.sni ?? hostname;
  return {
    // Stacks publish their ports on 127.0.0.1; "localhost" may resolve to ::1 first, where nothing listens.
    host: hostname.toLowerCase() === 'localhost' ? '127.0.0.1' : hostname,
    port: u.port ? Number(u.port) : 443,
    servername,
    ...(o.ca ? { ca: o.ca } : {}),
    insecure: o.insecure === true,
    httpsUrl: `${u.origin}`,
    ...(o.httpUrl ? { httpUrl: o.httpUrl.replace(/\/+$/, '') } : {}),
    hostnames: [...new Set([servername, ...(o.hostnames ?? [])])],
  };
}

/** The stack description's public endpoint: its URL, CA (or insecure), SNI, extra names and HTTP entry. */
export async function stackTlsTarget(stack: AttachedStack): Promise<TlsTarget> {
  const e = stack.spec.endpoint;
  if (!e.url.startsWith('https:')) throw invalidInput('stack.endpoint.url', `${e.url} is not https: the TLS probe has nothing to look at`);
  const ca = e.insecure ? undefined : await stack.ca();
  return tlsTarget(e.url, {
    ...(ca ? { ca } : {}),
    insecure: e.insecure,
    ...(e.sni ? { sni: e.sni } : {}),
    hostnames: e.hostnames,
    ...(e.http_url ? { httpUrl: e.http_url } : {}),
  });
}
