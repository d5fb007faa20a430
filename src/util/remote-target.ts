// The one rule for where faultline may send traffic from the Docker host: loopback only (127.0.0.1, ::1, localhost:
// the stack's published ports), unless the user passes --allow-remote-target out loud. Load, readiness, seeding,
// read-backs, probes, Prometheus and databases all reach the outside through a description or a flag that passes here;
// the stack's own containers (found by label) are reached on their internal addresses and are not "remote".

import { invalidInput } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

/** The only hosts faultline reaches from the Docker host without --allow-remote-target. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

/**
 * Refuses `url` (a URL or a bare host) unless it is loopback or `allowRemote` is set; the error names `field` (exit 2)
 * and the flag that would allow it.
 */
export function assertTargetAllowed(url: string, field: string, allowRemote: boolean | undefined): void {
  let host = url;
  try {
    host = new URL(url).hostname;
  } catch {
    // a bare host name or address
  }
  if (allowRemote || isLoopbackHost(host)) return;
  throw invalidInput(
    field,
    `${host} is not a loopback address; faultline sends traffic only to 127.0.0.1, ::1 or localhost unless --allow-remote-target is given`,
  );
}
