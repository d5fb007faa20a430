// Keeps private keys out of what faultline prints (`--json` output ends up in CI logs): any string holding
// a PEM private key, as text or base64, is replaced. Records no longer carry keys; this also covers records
// written by older versions. Pure.

export const REDACTED = '[redacted: private key]';

const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const BASE64 = /^[A-Za-z0-9+/]{64,}={0,2}$/;

function secret(s: string): boolean {
  if (PEM_KEY.test(s)) return true;
  return BASE64.test(s) && PEM_KEY.test(Buffer.from(s, 'base64').toString('latin1'));
}

/** A deep copy of `value` with every string that holds a private key replaced by REDACTED. */
export function redactSecrets<T>(value: T): T {
  if (typeof value === 'string') return (secret(value) ? REDACTED : value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactSecrets(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactSecrets(v)])) as T;
  }
  return value;
}
