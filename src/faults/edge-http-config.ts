// The configuration edits of the TLS edge's request-level faults (edge-abort, edge-delay), pure: each takes the edge's
// config as it is and returns it with the fault's rules added, or refuses in one line when the file lacks what they need.
// Every edit also answers a probe request (header X_PROBE = the fault id) with PROBE_BODY, so a check through the
// described endpoint proves which configuration the edge serves, without counting in the fault's share.

import { FaultlineError } from '../errors.js';
import type { EdgeKind } from '../stack/spec.js';

export type HttpMode = 'abort' | 'delay';

/** What a request-level fault does, to which requests, and how many of them. */
export interface HttpRule {
  mode: HttpMode;
  /** The fault id: names the probe answer and the files the rules use; [a-z0-9-] only (engine ids). */
  faultId: string;
  /** Share of the matching requests, 0–100, at 0.1 % resolution. */
  percent: number;
  /** abort: the status answered. */
  status?: number;
  /** delay: milliseconds added before the request goes on. */
  delayMs?: number;
  /** Only requests whose path starts with this ('/' = every path). */
  path: string;
  /** Only requests of this method (undefined = any). */
  method?: string | undefined;
}

/** The header a check sends (its value the fault id) and the body the edge answers it with. */
export const X_PROBE = 'x-faultline-probe';
export const probeBody = (faultId: string) => `faultline-fault ${faultId}`;
/** The body of an aborted request (HAProxy; nginx answers its own error page). */
export const ABORT_BODY = 'faultline edge-abort';

/**
 * HAProxy picks requests with a counter, not a die: request n of the matching ones is picked when (n·373) mod 1000 is
 * below the share in per mille. 373 is coprime with 1000, so every 1 000 consecutive matching requests hold exactly the
 * share, spread out rather than in one burst. (Two threads may read the same n; then one value repeats: the share
 * stays within a request or two per thousand.)
 */
export const PICK_MULTIPLIER = 373;
export const perMille = (percent: number) => Math.round(percent * 10);

const refuse = (message: string) => new FaultlineError('INVALID_INPUT', message);

const ID = /^[a-z0-9-]{1,80}$/;
const PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;
const METHOD = /^[A-Z]{1,20}$/;

/** The rule, checked to hold only what may go into a config unquoted. */
export function checkedRule(rule: HttpRule): HttpRule {
  if (!ID.test(rule.faultId)) throw new FaultlineError('INTERNAL', `edge rule: ${JSON.stringify(rule.faultId)} is not a fault id`);
  if (!PATH.test(rule.path) || /[\s"'{};#]/.test(rule.path)) throw refuse(`path: ${JSON.stringify(rule.path)} is not a plain URL path prefix (e.g. /items)`);
  if (rule.method !== undefined && !METHOD.test(rule.method)) throw refuse(`method: ${JSON.stringify(rule.method)} is not an HTTP method (e.g. GET)`);
  if (!(rule.percent >= 0 && rule.percent <= 100)) throw refuse(`percent: ${rule.percent} is not between 0 and 100`);
  return rule;
}

function words(rule: HttpRule): string {
  const which = `${rule.method ?? 'any method'} ${rule.path === '/' ? 'any path' : `${rule.path}*`}`;
  return rule.mode === 'abort' ? `answer ${rule.status} to ${rule.percent}% of ${which}` : `delay ${rule.percent}% of ${which} by ${rule.delayMs} ms`;
}

const SECTION = /^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program|mailers|cache|ring|http-errors)\b/;

interface Section {
  header: string;
  /** Line indexes: the header's and one past the last line of the section. */
  start: number;
  end: number;
}

function sections(lines: string[]): Section[] {
  const out: Section[] = [];
  lines.forEach((line, i) => {
    if (SECTION.test(line)) {
      if (out.length) out[out.length - 1]!.end = i;
      out.push({ header: line.trim(), start: i, end: lines.length });
    }
  });
  return out;
}

/** A unique name for what the rules add (variables, sections, sockets): from the fault id. */
const tag = (faultId: string) => `faultline_${faultId.replace(/-/g, '_')}`;

/** The unix sockets a HAProxy delay chains through (inside the edge, under `dir`): removed by revert. */
export function haproxySockets(faultId: string, dir: string): string[] {
  return [`${dir}/${faultId}-wait.sock`, `${dir}/${faultId}-pass.sock`];
}

/**
 * HAProxy: the rules go into every frontend that binds with `ssl`, after its existing http-request rules (a plain-HTTP
 * redirect still comes first). abort: `http-request return`. delay: the picked requests go to a backend whose one
 * server is a TCP listener of the same HAProxy that holds each connection `delayMs` (inspect-delay + WAIT_END, HAProxy's
 * own timer, no Lua), then hands it to a frontend whose default backend is the TLS frontend's: the same servers,
 * health checks and TLS to them. Server connections of the delay backend close after each answer, so every request of a
 * keep-alive client waits anew.
 */
export function haproxyHttpFault(cfg: string, input: HttpRule, dir = '/run/faultline'): string {
  const rule = checkedRule(input);
  const lines = cfg.split('\n');
  const tls = sections(lines).filter((s) => /^(frontend|listen)\b/.test(s.header) && lines.slice(s.start, s.end).some((l) => /^\s*bind\s.*\sssl\b/.test(l)));
  if (!tls.length) throw refuse(`edge-${rule.mode}: the HAProxy config has no frontend that binds with ssl`);
  if (cfg.includes(tag(rule.faultId))) throw refuse(`edge-${rule.mode}: the HAProxy config already holds ${rule.faultId}'s rules`);
  const t = tag(rule.faultId);
  const match = [...(rule.path === '/' ? [] : [`{ path_beg ${rule.path} }`]), ...(rule.method ? [`{ method ${rule.method} }`] : [])].join(' ');
  const counter = `proc.${t}_n`;
  const picked = `${match} { var(${counter}),mul(${PICK_MULTIPLIER}),mod(1000) lt ${perMille(rule.percent)} }`.trim();
  const [wait, pass] = haproxySockets(rule.faultId, dir);
  const extra: string[] = [];
  // Bottom-up, so that the line numbers of the sections still to edit stay right.
  for (const s of [...tls].reverse()) {
    const body = lines.slice(s.start + 1, s.end);
    const indent = /^(\s+)\S/.exec(body.find((l) => /^\s+\S/.test(l)) ?? '')?.[1] ?? '    ';
    const defaultBackend = body.map((l) => /^\s*default_backend\s+(\S+)/.exec(l)?.[1]).find(Boolean);
    if (rule.mode === 'delay' && !defaultBackend)
      throw refuse(`edge-delay: the HAProxy frontend "${s.header}" has no default_backend to pass delayed requests on to`);
    const add = [
      `# ${rule.faultId}: ${words(rule)} (faultline; revert puts the original file back)`,
      `http-request return status 200 content-type text/plain string "${probeBody(rule.faultId)}" if { req.hdr(${X_PROBE}) -m str ${rule.faultId} }`,
      `http-request set-var(${counter}) var(${counter},0),add(1)${match ? ` if ${match}` : ''}`,
      rule.mode === 'abort'
        ? `http-request return status ${rule.status} content-type text/plain string "${ABORT_BODY}" if ${picked}`
        : `use_backend ${t}_delay if ${picked}`,
    ];
    // After the last http-request line (or the last bind), before any use_backend/default_backend.
    let at = -1;
    body.forEach((l, i) => {
      if (/^\s*(http-request|bind)\s/.test(l)) at = i;
    });
    const firstBackend = body.findIndex((l) => /^\s*(use_backend|default_backend)\s/.test(l));
    if (firstBackend >= 0 && firstBackend <= at) at = firstBackend - 1;
    const where = s.start + 1 + (at + 1);
    // use_backend must come after every http-request line: put the rules' use_backend just before the first backend line.
    if (rule.mode === 'delay') {
      const use = add.pop()!;
      const backendAt = firstBackend >= 0 ? s.start + 1 + firstBackend : s.end;
      lines.splice(Math.max(backendAt, where), 0, indent + use);
    }
    lines.splice(where, 0, ...add.map((l) => indent + l));
    if (rule.mode === 'delay' && !extra.length)
      extra.push(
        '',
        `# ${rule.faultId}: the delay of edge-delay (faultline)`,
        `backend ${t}_delay`,
        '    mode http',
        '    http-reuse never',
        '    option http-server-close',
        `    timeout server ${Math.max(10_000, (rule.delayMs ?? 0) + 10_000)}ms`,
        `    server wait unix@${wait}`,
        `listen ${t}_wait`,
        '    mode tcp',
        `    bind unix@${wait}`,
        `    tcp-request inspect-delay ${rule.delayMs}ms`,
        '    tcp-request content accept if WAIT_END',
        `    timeout client ${Math.max(30_000, (rule.delayMs ?? 0) + 30_000)}ms`,
        `    timeout server ${Math.max(30_000, (rule.delayMs ?? 0) + 30_000)}ms`,
        `    server pass unix@${pass}`,
        `frontend ${t}_pass`,
        '    mode http',
        `    bind unix@${pass}`,
        `    default_backend ${defaultBackend}`,
      );
  }
  const out = lines.join('\n');
  return extra.length ? `${out.replace(/\n*$/, '\n')}${extra.join('\n')}\n` : out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * nginx: a `split_clients` on the request id picks the share (a hash, so the share holds statistically, not exactly),
 * maps add the path and method, and every TLS server block answers the probe and returns the status. Stock nginx has no
 * per-request sleep (echo_sleep is a third-party module), so edge-delay on nginx is refused.
 */
export function nginxHttpFault(cfg: string, input: HttpRule): string {
  const rule = checkedRule(input);
  if (rule.mode === 'delay')
    throw refuse('edge-delay: stock nginx has no per-request delay (echo_sleep is a third-party module); use an HAProxy edge or the fault proxy');
  if (cfg.includes(tag(rule.faultId))) throw refuse(`edge-abort: the nginx config already holds ${rule.faultId}'s rules`);
  const http = /^([ \t]*)http\s*\{[^\n]*\n/m.exec(cfg);
  if (!http) throw refuse('edge-abort: the nginx config has no http { } block');
  const t = tag(rule.faultId);
  const ind = `${http[1]}    `;
  const method = rule.method ?? '[A-Z]+';
  const share = rule.percent >= 100 ? '* 1;' : rule.percent <= 0 ? '* "";' : `${rule.percent}% 1; * "";`;
  const globals = [
    `# ${rule.faultId}: ${words(rule)} (faultline; revert puts the original file back)`,
    `split_clients "\${request_id}" $${t}_pick { ${share} }`,
    `map "$request_method $uri" $${t}_match { "~^${method} ${escapeRe(rule.path)}" 1; default ""; }`,
    `map "$${t}_pick$${t}_match" $${t} { 11 1; default ""; }`,
  ];
  let out = cfg.slice(0, http.index + http[0].length) + globals.map((l) => ind + l).join('\n') + '\n' + cfg.slice(http.index + http[0].length);
  // Every server block with a TLS listen: the probe first, then the abort (server-level rewrite phase, before locations).
  const servers = [...out.matchAll(/^([ \t]*)server\s*\{[^\n]*\n/gm)].reverse();
  let edited = 0;
  for (const m of servers) {
    const rest = out.slice(m.index! + m[0].length);
    const next = rest.search(/^[ \t]*server\s*\{/m);
    if (!/^\s*listen\s[^;]*\bssl\b/m.test(next >= 0 ? rest.slice(0, next) : rest)) continue;
    const i = `${m[1]}    `;
    const add = [
      `if ($http_${X_PROBE.replace(/-/g, '_')} = "${rule.faultId}") { return 200 "${probeBody(rule.faultId)}"; }`,
      `if ($${t}) { return ${rule.status}; }`,
    ];
    out = out.slice(0, m.index! + m[0].length) + add.map((l) => i + l).join('\n') + '\n' + rest;
    edited += 1;
  }
  if (!edited) throw refuse('edge-abort: the nginx config has no server block that listens with ssl');
  return out;
}

/** Request-level edits by edge kind, pure. */
export const httpEdits: Record<EdgeKind, (cfg: string, rule: HttpRule, dir?: string) => string> = { haproxy: haproxyHttpFault, nginx: nginxHttpFault };
