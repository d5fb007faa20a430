// How a client verifies a described endpoint: the one mapping from a stack description's `endpoint` to TLS options,
// for `faultline load --stack`, an experiment's load, readiness and read-backs alike.

/** How a client verifies the endpoint: against its CA, or not at all; under the SNI name the description gives. */
export type EndpointTlsOptions = { ca?: string; insecure?: true; servername?: string };

/** What of an endpoint, besides its CA, decides how it is verified. */
export interface EndpointTls {
  sni?: string | undefined;
}

/**
 * TLS options for load against `url` on a described endpoint (pure): verify against `ca` (as the caller holds it: the
 * PEM, or the file a flag names), or not at all without one (the description says insecure), under the SNI name the
 * description gives. Nothing for an http URL, where the load engine refuses TLS options.
 */
export function endpointTls<Ca>(url: string, endpoint: EndpointTls, ca: Ca | undefined): { ca?: Ca; insecure?: true; servername?: string } {
  if (!url.startsWith('https:')) return {};
  return { ...(ca ? { ca } : { insecure: true as const }), ...(endpoint.sni ? { servername: endpoint.sni } : {}) };
}
