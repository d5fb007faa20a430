// Minimal one-shot HTTP(S) requests for checks and probes (not for load: see src/load/).

import http from 'node:http';
import https from 'node:https';

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface SimpleRequest {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** PEM of the CA to verify against; with `insecure` verification is off. */
  ca?: string | Buffer;
  insecure?: boolean;
  servername?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export function request(url: string, options: SimpleRequest = {}): Promise<SimpleResponse> {
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  const mod = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: options.method ?? 'GET',
        headers: { ...(options.body ? { 'content-type': 'application/json' } : {}), ...options.headers },
        agent: false,
        timeout: options.timeoutMs ?? 5000,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(isHttps ? { ca: options.ca, rejectUnauthorized: !options.insecure, ...(options.servername ? { servername: options.servername } : {}) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from ${u.host} within ${options.timeoutMs ?? 5000} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(options.body);
  });
}
