// Names a failed request by one stable code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, a TLS code …) whatever client raised it,
// so the timeline counts the same failure the same way for both drivers.

/** undici's own codes mapped onto the socket-level names people grep for. */
const UNDICI: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_HEADERS_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_BODY_TIMEOUT: 'ETIMEDOUT',
  // "other side closed": the server closed the connection while our request was on it.
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_ABORTED: 'ABORTED',
  UND_ERR_CLOSED: 'ABORTED',
  UND_ERR_DESTROYED: 'ABORTED',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'EPROTO',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'EPROTO',
  HPE_INVALID_CONSTANT: 'EPROTO',
};

function codeField(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.length > 0 ? code : undefined;
}

/** The stable code for a request failure. Never throws; unknown shapes give 'UNKNOWN'. */
export function errorCodeOf(err: unknown, depth = 0): string {
  if (depth > 4) return 'UNKNOWN';
  const code = codeField(err);
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_INFO') {
    // undici wraps the socket's own error; prefer it when it says more (e.g. a reset vs a clean close).
    const inner = codeField((err as { cause?: unknown }).cause);
    if (inner) return errorCodeOf((err as { cause?: unknown }).cause, depth + 1);
    return code === 'UND_ERR_SOCKET' ? 'ECONNRESET' : 'UNKNOWN';
  }
  if (code) return UNDICI[code] ?? code;
  if (err instanceof AggregateError && err.errors.length > 0) return errorCodeOf(err.errors[0], depth + 1);
  if (typeof err === 'object' && err !== null && 'cause' in err) return errorCodeOf((err as { cause?: unknown }).cause, depth + 1);
  return 'UNKNOWN';
}

/** TLS verification and handshake failures, which must be counted, never hidden. */
export function isTlsErrorCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
  );
}
