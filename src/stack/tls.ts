// Where the stack's certificates come from, by concern: the pure issuer (x509.ts), the stack's CA on disk
// (stack-ca.ts) and the hardened profile's internal TLS (internal-tls.ts).

export * from './x509.js';
export * from './stack-ca.js';
export * from './internal-tls.js';
