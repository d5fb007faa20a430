// The configuration edits of the TLS edge's faults, per kind (HAProxy, nginx), pure: each takes the file as it is
// and returns it changed, or refuses in one line when the file lacks what the fault would change.

import { FaultlineError } from '../errors.js';
import type { EdgeKind } from '../stack/spec.js';

export type ConfigMode = 'legacy-tls' | 'no-hsts' | 'no-redirect';

/** TLS 1.0/1.1 need CBC suites, and OpenSSL 3 offers them only at security level 0. */
const LEGACY_SUITES = ['ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA', 'AES128-SHA', 'AES256-SHA'];

const refuse = (message: string) => new FaultlineError('INVALID_INPUT', message);

/** Raises OpenSSL's security level to 0 for HAProxy: Debian's default (2) refuses to load RSA-1024 or SHA-1 certificates. */
export function seclevelZero(cnf: string): string {
  const section = /^\[\s*openssl_init\s*\]\s*$/m;
  const extra = '\n[faultline_ssl]\nsystem_default = faultline_tls\n[faultline_tls]\nCipherString = DEFAULT:@SECLEVEL=0\n';
  if (section.test(cnf)) return cnf.replace(section, (m) => `${m}\nssl_conf = faultline_ssl`) + extra;
  return `openssl_conf = openssl_init\n${cnf}\n[openssl_init]\nssl_conf = faultline_ssl\n${extra}`;
}

const haproxyEdits: Record<ConfigMode, (cfg: string) => string> = {
  'legacy-tls': (cfg) => {
    const min = /ssl-min-ver\s+TLSv1\.[23]/;
    const ciphers = /^(\s*ssl-default-bind-ciphers\s+)(\S+)\s*$/m;
    if (!min.test(cfg) || !ciphers.test(cfg)) throw refuse('tls-legacy: the LB config has no ssl-min-ver / ssl-default-bind-ciphers line to relax');
    return cfg
      .replace(min, 'ssl-min-ver TLSv1.0')
      .replace(ciphers, (_m, head: string, list: string) => `${head}${list}:${LEGACY_SUITES.join(':')}:@SECLEVEL=0`);
  },
  'no-hsts': (cfg) => {
    const line = /^\s*http-response\s+set-header\s+Strict-Transport-Security\b.*\n/im;
    if (!line.test(cfg)) throw refuse('hsts-removed: the LB config sets no Strict-Transport-Security header');
    return cfg.replace(line, '');
  },
  'no-redirect': (cfg) => {
    const line = /^\s*http-request\s+redirect\b.*unless\s*\{\s*ssl_fc\s*\}.*\n/m;
    if (!line.test(cfg)) throw refuse('http-no-redirect: the LB config has no HTTP→HTTPS redirect');
    return cfg.replace(line, '');
  },
};

/**
 * Every ssl_ciphers of an nginx config at security level 0 with `add` among its suites; where the config sets none,
 * one (nginx's default list plus `add`) is put after each ssl_certificate line, which is valid in the same contexts.
 * nginx applies a server's ssl_ciphers before it loads the certificate, so this is also what lets it load a weak one.
 */
export function nginxCiphersAtLevelZero(cfg: string, add: string[] = []): string {
  const line = /^([ \t]*ssl_ciphers\s+)(["']?)([^"';]*)\2(\s*;)/gm;
  const level0 = (list: string[]) => [...list.filter((s) => s && !/^@SECLEVEL=/i.test(s)), ...add.filter((s) => !list.includes(s)), '@SECLEVEL=0'].join(':');
  if (line.test(cfg)) return cfg.replace(line, (_m, head: string, _q: string, list: string, end: string) => `${head}"${level0(list.trim().split(':'))}"${end}`);
  const certificate = /^([ \t]*)ssl_certificate\s[^;]*;[^\n]*$/gm;
  if (!certificate.test(cfg)) throw refuse('the nginx config has neither an ssl_ciphers nor an ssl_certificate line');
  return cfg.replace(certificate, (m, indent: string) => `${m}\n${indent}ssl_ciphers "${level0(['HIGH', '!aNULL', '!MD5'])}";`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Points every `directive <from>;` of an nginx config at `to` (a certificate swap where the original may be read-only). */
export function nginxPointAt(cfg: string, directive: 'ssl_certificate' | 'ssl_certificate_key', from: string, to: string): string {
  const line = new RegExp(`^([ \\t]*${directive}\\s+)(["']?)${escapeRe(from)}\\2(\\s*;)`, 'gm');
  if (!line.test(cfg)) throw refuse(`the nginx config has no "${directive} ${from};" line (stack.edge names that file)`);
  return cfg.replace(line, (_m, head: string, _q: string, end: string) => `${head}${to}${end}`);
}

/** The block (`if (…) {…}`, `server {…}`, `location … {…}`) around `index`: its header and where it starts and ends. */
export function enclosingBlock(cfg: string, index: number): { header: string; start: number; end: number } | undefined {
  let depth = 0;
  let open = -1;
  for (let i = index; i >= 0; i -= 1) {
    if (cfg[i] === '}') depth += 1;
    else if (cfg[i] === '{') {
      if (depth === 0) {
        open = i;
        break;
      }
      depth -= 1;
    }
  }
  if (open < 0) return undefined;
  let end = -1;
  depth = 0;
  for (let i = open + 1; i < cfg.length; i += 1) {
    if (cfg[i] === '{') depth += 1;
    else if (cfg[i] === '}') {
      if (depth === 0) {
        end = i + 1;
        break;
      }
      depth -= 1;
    }
  }
  if (end < 0) return undefined;
  const before = cfg.slice(0, open);
  const headerStart = Math.max(before.lastIndexOf(';'), before.lastIndexOf('{'), before.lastIndexOf('}')) + 1;
  // Comment lines between the previous statement and the header are not part of it (and stay where they are).
  let start = headerStart;
  const parts: string[] = [];
  for (const line of before.slice(headerStart).split('\n')) {
    const code = line.replace(/#.*$/, '').trim();
    if (code) parts.push(code);
    if (!parts.length) start += line.length + 1;
  }
  // From the beginning of the header's line when only indentation precedes it there.
  const lineStart = cfg.lastIndexOf('\n', start - 1) + 1;
  if (/^[ \t]*$/.test(cfg.slice(lineStart, start))) start = lineStart;
  return { header: parts.join(' '), start, end: cfg[end] === '\n' ? end + 1 : end };
}

const nginxEdits: Record<ConfigMode, (cfg: string) => string> = {
  'legacy-tls': (cfg) => {
    const protocols = /^([ \t]*ssl_protocols\s+)[^;]*;/gm;
    if (!protocols.test(cfg)) throw refuse('tls-legacy: the nginx config has no ssl_protocols line to relax');
    return nginxCiphersAtLevelZero(
      cfg.replace(protocols, (_m, head: string) => `${head}TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;`),
      LEGACY_SUITES,
    );
  },
  'no-hsts': (cfg) => {
    const line = /^[ \t]*add_header\s+["']?Strict-Transport-Security["']?\s[^;]*;[^\n]*(\n|$)/gim;
    if (!line.test(cfg)) throw refuse('hsts-removed: the nginx config has no add_header Strict-Transport-Security line');
    return cfg.replace(line, '');
  },
  'no-redirect': (cfg) => {
    const redirect = /(^|[;{}\s])return\s+30[1278]\s+["']?https:\/\/[^;]*;/m.exec(cfg);
    if (!redirect) throw refuse('http-no-redirect: the nginx config has no HTTP→HTTPS redirect (return 301 https://…)');
    const block = enclosingBlock(cfg, redirect.index + redirect[1]!.length);
    // `if ($scheme = http) { return 301 https://…; }` inside the TLS server: without it, that server answers plain HTTP.
    if (block && /^if\s*\(/.test(block.header)) return cfg.slice(0, block.start) + cfg.slice(block.end);
    if (!block || block.header !== 'server')
      throw refuse(`http-no-redirect: the nginx redirect is inside "${block?.header ?? 'nothing'}", not a server or an if block`);
    // A server that only redirects: its listen lines move into the TLS server, which then serves plain HTTP too.
    const body = cfg.slice(block.start, block.end);
    const listens = [...body.matchAll(/^[ \t]*listen\s[^;]*;/gm)].map((m) => m[0].trim());
    const rest = cfg.slice(0, block.start) + cfg.slice(block.end);
    const tls = /^([ \t]*)listen\s[^;]*\bssl\b[^;]*;[^\n]*$/m.exec(rest);
    if (!listens.length || !tls) throw refuse('http-no-redirect: the nginx config has no server with "listen … ssl" to serve plain HTTP instead');
    const at = tls.index + tls[0].length;
    return rest.slice(0, at) + listens.map((l) => `\n${tls[1]}${l}`).join('') + rest.slice(at);
  },
};

/** Config edits by edge kind and fault mode, pure; each throws when the config does not have the line it changes. */
export const configEdits: Record<EdgeKind, Record<ConfigMode, (cfg: string) => string>> = { haproxy: haproxyEdits, nginx: nginxEdits };
