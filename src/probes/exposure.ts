// Exposure probe: from two throwaway vantage points ("the internet" on the edge network, "an insider" on the
// internal network that is no app server) connect to every server of the stack, found by label, on a bounded
// port list, with bounded concurrency and timeouts; compare with the policy the stack declares and report
// every hole. Never sweeps an address range: targets are the servers' own addresses only.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { LABEL } from '../stack/docker-client.js';
import { numberField, portListField } from './params.js';
import { observation, startMark } from './runner.js';
import { stackServers, type ServerTarget } from './targets.js';
import { runAsOperator } from '../swarm/vantage.js';
import type { Finding, Observation, Probe, ProbeContext, Severity } from './types.js';

/** Who a rule admits: anyone, a server role of the stack, or the operator (the network's gateway, .1). */
export type Source = string;

/** One rule of a stack's declared policy (its description's exposure.policy). */
export interface PolicyRule {
  /** Server role the rule is on ('*' = every server). */
  role: string;
  port: number;
  from: Source[];
}

/** Which role may publish which container ports on the Docker host, and on which addresses. */
export interface PublishPolicy {
  role: string;
  ports: readonly number[];
  hostIps: readonly string[];
}

export const DEFAULT_PORTS = [22, 80, 443, 3306, 4567, 8404, 9090, 9100, 9104, 9113] as const;

export interface Vantage {
  name: 'internet' | 'insider' | 'operator';
  /** Sources this vantage counts as in the policy (internet and insider are strangers: 'any' only). */
  counts: Source[];
  network: 'edge' | 'internal';
}

export const VANTAGES: readonly Vantage[] = [
  { name: 'internet', counts: ['any'], network: 'edge' },
  { name: 'insider', counts: ['any'], network: 'internal' },
  // Asked for by name: faultline's own place (the Docker host on a compose stack, its vantage on a swarm stack).
  { name: 'operator', counts: ['any', 'operator'], network: 'internal' },
];

export function allowedBy(policy: readonly PolicyRule[], role: string, port: number, counts: readonly Source[]): boolean {
  return policy.some((r) => (r.role === role || r.role === '*') && r.port === port && r.from.some((s) => s === 'any' || counts.includes(s)));
}

export interface ProbeResult {
  vantage: Vantage['name'];
  server: string;
  role: string;
  address: string;
  port: number;
  open: boolean;
}

export interface ExposureCheck extends ProbeResult {
  allowed: boolean;
}

/** What each vantage should try: every server's address on the vantage's network × the port list. Pure. */
export function plannedTargets(
  servers: ServerTarget[],
  vantage: Vantage,
  ports: readonly number[],
): Array<{ server: ServerTarget; address: string; port: number }> {
  const out: Array<{ server: ServerTarget; address: string; port: number }> = [];
  for (const s of servers) {
    const address = vantage.network === 'edge' ? s.edge : s.internal;
    if (!address) continue;
    const extra = s.published.map((p) => p.containerPort);
    for (const port of [...new Set([...ports, ...extra])].sort((a, b) => a - b)) out.push({ server: s, address, port });
  }
  return out;
}

const HOLE_SEVERITY: Record<number, Severity> = {
  3306: 'critical',
  4567: 'critical',
  22: 'high',
  9090: 'high',
  8404: 'medium',
  9100: 'medium',
  9104: 'medium',
  9113: 'medium',
};

/** Holes (open, not allowed), blocked services (allowed, closed) and publishing outside policy. Pure. */
export function judgeExposure(checks: ExposureCheck[], servers: ServerTarget[], publish?: PublishPolicy): { holes: ExposureCheck[]; findings: Finding[] } {
  const holes = checks.filter((c) => c.open && !c.allowed);
  const findings: Finding[] = holes.map((h) => ({
    id: 'hole',
    severity: HOLE_SEVERITY[h.port] ?? 'high',
    message: `${h.server}:${h.port} is reachable from the ${h.vantage} vantage, which the policy does not allow`,
    where: `${h.vantage} → ${h.server} (${h.address}):${h.port}`,
  }));
  for (const c of checks.filter((x) => !x.open && x.allowed)) {
    findings.push({
      id: 'blocked',
      severity: 'info',
      message: `${c.server}:${c.port} is allowed from the ${c.vantage} vantage but did not answer`,
      where: `${c.vantage} → ${c.server} (${c.address}):${c.port}`,
    });
  }
  // Without a declared publish policy, nothing is expected on the Docker host but loopback.
  const allowed = publish ?? { role: '', ports: [], hostIps: ['127.0.0.1', '::1'] };
  for (const s of servers) {
    for (const p of s.published) {
      const where = `${p.hostIp}:${p.hostPort} → ${s.server}:${p.containerPort}`;
      if (!allowed.hostIps.includes(p.hostIp))
        findings.push({ id: 'published-public', severity: 'high', message: `port published on ${p.hostIp}, not loopback`, where });
      if (s.role !== allowed.role || !allowed.ports.includes(p.containerPort))
        findings.push({ id: 'published-unexpected', severity: 'medium', message: `${s.server} publishes ${p.containerPort}`, where });
    }
  }
  return { holes, findings };
}

/** Parses the scan script's "R <address> <port> open|closed" lines. Pure. */
export function parseScanOutput(stdout: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of stdout.split('\n')) {
    const m = /^R (\S+) (\d+) (open|closed)$/.exec(line.trim());
    if (m) out.set(`${m[1]}:${m[2]}`, m[3] === 'open');
  }
  return out;
}

/**
 * Connects (bash /dev/tcp) to each target ("address:port") in batches of `concurrency`, each bounded by `timeout`.
 * A target marked "+address:port" is one the policy allows, so expected open: when it does not answer it
 * gets two more tries with 2× and 3× the timeout, because on a starved machine a first connect from a fresh
 * container can miss, and a false "closed" there would hide what the vantage really reaches.
 */
export const SCAN_SCRIPT = [
  'set -u',
  'conc=$1; secs=$2; shift 2; n=0',
  // bash's /dev/tcp, not nc: a user's image has bash and coreutils more often than a netcat.
  'try() { timeout "$3" bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$1" "$2" >/dev/null 2>&1; }',
  'check() { t=${1#+}; a=${t%:*}; p=${t##*:}',
  '  if try "$a" "$p" "$secs"; then echo "R $a $p open"; return; fi',
  '  if [ "$t" != "$1" ]; then for s in $((secs * 2)) $((secs * 3)); do if try "$a" "$p" "$s"; then echo "R $a $p open"; return; fi; done; fi',
  '  echo "R $a $p closed"; }',
  'for t in "$@"; do check "$t" & n=$((n + 1)); if [ "$n" -ge "$conc" ]; then wait; n=0; fi; done',
  'wait',
].join('\n');

/** The scan script's arguments: allowed (expected-open) targets carry a "+" so they are retried. Pure. */
export function scanArgs(targets: Array<{ address: string; port: number; expectOpen: boolean }>): string[] {
  return targets.map((t) => `${t.expectOpen ? '+' : ''}${t.address}:${t.port}`);
}

async function scanFrom(
  ctx: ProbeContext,
  vantage: Vantage,
  targets: Array<{ address: string; port: number; expectOpen: boolean }>,
  o: { concurrency: number; timeoutS: number },
  signal: AbortSignal,
): Promise<Map<string, boolean>> {
  if (targets.length === 0) return new Map();
  const stack = ctx.stack;
  const args = [String(o.concurrency), String(o.timeoutS), ...scanArgs(targets)];
  const res = vantage.name === 'operator' ? await runAsOperator(stack, SCAN_SCRIPT, args, signal) : await scanInHelper(ctx, vantage, args, signal);
  signal.throwIfAborted();
  const seen = parseScanOutput(res.stdout);
  if (seen.size < targets.length) {
    throw new FaultlineError(
      'INTERNAL',
      `the ${vantage.name} vantage reported ${seen.size} of ${targets.length} results (exit ${res.exitCode}): ${res.stderr.trim().slice(0, 300)}`,
    );
  }
  return seen;
}

/** A throwaway container on the vantage's network runs the scan. */
async function scanInHelper(ctx: ProbeContext, vantage: Vantage, args: string[], signal: AbortSignal) {
  const stack = ctx.stack;
  const image = await stack.helperImage();
  return ctx.docker.runToCompletion(
    {
      image,
      entrypoint: ['bash', '-c', SCAN_SCRIPT, 'scan'],
      cmd: args,
      networkMode: vantage.network === 'edge' ? stack.edgeNetwork : stack.internalNetwork,
      helper: 'vantage',
      labels: { [LABEL.stack]: stack.project, [LABEL.role]: 'vantage', [LABEL.component]: `vantage-${vantage.name}` },
    },
    signal,
  );
}

const params = z
  .object({
    /** Default: the description's exposure.ports, else DEFAULT_PORTS. */
    ports: portListField.optional(),
    concurrency: numberField({ min: 1, max: 32, int: true }).default(16),
    timeout: numberField({ min: 1, max: 5, int: true }).default(1),
    vantages: z
      .union([z.string(), z.array(z.string())])
      .transform((v, c) => {
        const names = (typeof v === 'string' ? v.split(',') : v).map((x) => x.trim()).filter(Boolean);
        const bad = names.find((n) => !VANTAGES.some((x) => x.name === n));
        if (bad || names.length === 0) {
          c.addIssue({ code: z.ZodIssueCode.custom, message: `unknown vantage ${JSON.stringify(bad ?? v)} (internet, insider, operator)` });
          return z.NEVER;
        }
        return names as Array<Vantage['name']>;
      })
      .default('internet,insider'),
  })
  .strict();
type Params = z.infer<typeof params>;

export interface ExposureValue {
  holes: number;
  checked: number;
}

function renderExposure(o: Observation<ExposureValue>): string[] {
  const checks = (o.details.checks as ExposureCheck[] | undefined) ?? [];
  const lines: string[] = [];
  for (const vantage of [...new Set(checks.map((c) => c.vantage))]) {
    const mine = checks.filter((c) => c.vantage === vantage);
    const open = mine.filter((c) => c.open).map((c) => `${c.server}:${c.port}${c.allowed ? '' : ' (HOLE)'}`);
    lines.push(`${vantage.padEnd(9)} ${mine.length} checked; open: ${open.join(', ') || 'none'}`);
  }
  return lines;
}

export const exposureProbe: Probe<Params, ExposureValue> = {
  name: 'exposure',
  description: 'ports reachable from the internet and from an insider, compared with the declared firewall policy',
  params,
  render: renderExposure,
  headline: (v) => v.holes,
  metrics: [
    { metric: 'exposure_holes', over: 'run', of: (l) => l.value.holes },
    { metric: 'steady_exposure_holes', over: 'steady', of: (l) => l.value.holes },
  ],
  evidence: {
    key: 'exposure',
    worstBy: 'exposure_holes',
    of: (o) => ({ holes: ((o.details.holes ?? []) as ExposureCheck[]).map((h) => ({ vantage: h.vantage, server: h.server, port: h.port })) }),
  },
  async run(ctx, p, signal): Promise<Observation<ExposureValue>> {
    const started = startMark();
    const servers = await stackServers(ctx.stack);
    const declared = ctx.stack.spec.exposure;
    const policy: readonly PolicyRule[] = declared.policy;
    const publish: PublishPolicy | undefined = declared.publish && {
      role: declared.publish.role,
      ports: declared.publish.ports,
      hostIps: declared.publish.host_ips,
    };
    const ports = p.ports ?? declared.ports ?? [...DEFAULT_PORTS];
    const vantages = VANTAGES.filter((v) => p.vantages.includes(v.name));
    const perVantage = await Promise.all(
      vantages.map(async (v) => {
        const planned = plannedTargets(servers, v, ports);
        const targets = planned.map((t) => ({ address: t.address, port: t.port, expectOpen: allowedBy(policy, t.server.role, t.port, v.counts) }));
        const seen = await scanFrom(ctx, v, targets, { concurrency: p.concurrency, timeoutS: p.timeout }, signal);
        return planned.map((t): ExposureCheck => ({
          vantage: v.name,
          server: t.server.server,
          role: t.server.role,
          address: t.address,
          port: t.port,
          open: seen.get(`${t.address}:${t.port}`) === true,
          allowed: allowedBy(policy, t.server.role, t.port, v.counts),
        }));
      }),
    );
    const checks = perVantage.flat();
    const j = judgeExposure(checks, servers, publish);
    return observation('exposure', started, {
      value: { holes: j.holes.length, checked: checks.length },
      tolerance: { type: 'atMost', max: 0 },
      passed: j.holes.length === 0 && !j.findings.some((f) => f.id === 'published-public'),
      details: { holes: j.holes, open: checks.filter((c) => c.open), checks, ports, policy: ctx.stack.spec.file },
      findings: j.findings,
    });
  },
};
