// Request-level faults at the TLS edge the stack description declares (stack.edge): edge-abort answers a status to a
// share of the requests (optionally of one path prefix and method), edge-delay holds a share of them for N ms, so the
// client's own HTTPS requests see them. Like the certificate faults: the config is changed by the edge's own rules
// (edge-http-config.ts), validated by the edge's binary before the reload, reloaded gracefully, checked through the
// described endpoint, and put back byte for byte by revert or, if faultline died, by the switch armed in the edge.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { sha256Hex } from '../stack/tls.js';
import { request } from '../util/http.js';
import { haproxySockets, httpEdits, probeBody, X_PROBE, type HttpMode, type HttpRule } from './edge-http-config.js';
import {
  edgeLogTail,
  edgeOf,
  findEdge,
  putEdgeFiles,
  readEdgeFiles,
  reloadEdgeUntil,
  reloadWords,
  removeEdgeFiles,
  SAVE_DIR,
  type EdgeKind,
} from './edge-files.js';
import { execOk } from './helpers.js';
import { durationMs, integer, percent } from './params.js';
import { armScript, disarmScript, edgeUndo, switchArgv, switchSeconds } from './switch.js';
import { loopbackUrl } from './tls-check.js';
import type { FaultCheck, FaultContext, FaultDefinition } from './types.js';

const dataSchema = z.object({
  mode: z.enum(['abort', 'delay']),
  lbId: z.string(),
  kind: z.enum(['haproxy', 'nginx']),
  config: z.object({ path: z.string(), mode: z.number() }),
  /** The original config (no secret: a config names key files, it does not hold them). */
  previousBase64: z.string(),
  nextSha256: z.string(),
  /** Files the rules make in the edge (HAProxy's delay sockets), removed by revert. */
  created: z.array(z.string()).default([]),
  /** The id the rules answer the probe request with (made at planning, before the engine names the fault). */
  ruleId: z.string(),
});
type HttpData = z.infer<typeof dataSchema>;

/** The next config, kept in memory between plan and apply (the record holds only its hash). */
const nextConfigs = new WeakMap<object, Buffer>();

const VALIDATE: Record<EdgeKind, (path: string) => string[]> = {
  haproxy: (path) => ['haproxy', '-c', '-q', '-f', path],
  nginx: (path) => ['nginx', '-t', '-q', '-c', path],
};

/** Whether the edge serves the fault's rules now: the probe request (header = fault id) gets the fault's own answer. */
async function probe(ctx: FaultContext, faultId: string, signal: AbortSignal): Promise<FaultCheck> {
  const { sni, ready_path: path } = ctx.stack.spec.endpoint;
  const ca = await ctx.stack.ca().catch(() => undefined);
  try {
    const res = await request(`${loopbackUrl(ctx.stack.httpsUrl)}${path}`, {
      headers: { [X_PROBE]: faultId },
      timeoutMs: 3000,
      ...(ca ? { ca } : { insecure: true }),
      ...(sni ? { servername: sni } : {}),
      signal,
    });
    const active = res.body.trim() === probeBody(faultId);
    return {
      active,
      detail: active ? `the edge answers the fault's probe (its rules are loaded)` : `the edge answers ${res.status} without the fault's rules`,
    };
  } catch (err) {
    if (signal.aborted) throw err;
    return { active: false, detail: `no HTTPS answer: ${(err as Error).message}` };
  }
}

const common = {
  percent: percent().default(30),
  path: z.string().min(1).default('/'),
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .optional(),
};
const abortParams = z.object({ ...common, status: integer(100, 599).default(503) }).strict();
const delayParams = z.object({ ...common, delay: durationMs({ min: 1, max: 60_000 }).default('200ms') }).strict();
type AbortParams = z.output<typeof abortParams>;
type DelayParams = z.output<typeof delayParams>;

const EDGE_TARGET = 'stack.edge.target';

function define<P extends AbortParams | DelayParams>(
  name: string,
  mode: HttpMode,
  description: string,
  params: z.ZodType<P, z.ZodTypeDef, unknown>,
): FaultDefinition<P, HttpData> {
  return {
    name,
    kind: 'network',
    description,
    defaultTarget: EDGE_TARGET,
    params,
    data: dataSchema,
    async plan(ctx, target, p, signal) {
      const edge = edgeOf(ctx, name);
      if (!edge.config)
        throw new FaultlineError('INVALID_INPUT', `${name}: ${ctx.stack.spec.file} names no configuration file of the edge (stack.edge.config)`);
      const lb = await findEdge(ctx, edge, target === EDGE_TARGET ? undefined : target);
      const [config] = await readEdgeFiles(ctx, lb.id, [{ key: 'config', path: edge.config }], signal);
      // The id the engine gives this fault is not known yet; the rules carry a plan id, which revert and check use.
      const faultId = `${name}-${Date.now().toString(36)}-${Math.floor(ctx.random() * 0xffff).toString(16)}`;
      const rule: HttpRule = {
        mode,
        faultId,
        percent: p.percent,
        path: p.path,
        method: p.method,
        ...('status' in p ? { status: p.status } : {}),
        ...('delay' in p ? { delayMs: p.delay } : {}),
      };
      const next = Buffer.from(httpEdits[edge.kind](config!.content.toString('utf8'), rule, SAVE_DIR));
      const data: HttpData = {
        mode,
        lbId: lb.id,
        kind: edge.kind,
        config: { path: edge.config, mode: config!.mode },
        previousBase64: config!.content.toString('base64'),
        nextSha256: sha256Hex(next),
        created: edge.kind === 'haproxy' && mode === 'delay' ? haproxySockets(faultId, SAVE_DIR) : [],
        ruleId: faultId,
      };
      nextConfigs.set(data, next);
      const what = mode === 'abort' ? `answer ${rule.status}` : `a delay of ${rule.delayMs} ms`;
      return {
        targets: [lb],
        steps: [
          `save ${edge.config} from ${lb.service || lb.name}`,
          `add rules: ${what} for ${p.percent}% of ${p.method ?? 'any method'} ${p.path === '/' ? 'any path' : `${p.path}*`}${edge.kind === 'haproxy' ? ' (picked by a counter: exact share)' : ' (picked by a hash of the request id)'}; validate with ${VALIDATE[edge.kind]('…')[0]}`,
          reloadWords[edge.kind],
          'revert: put back the saved config byte for byte, reload, check the probe request no longer sees the rules',
        ],
        // The same slot as the config faults (hsts-removed, …): two edits of one file cannot be reverted apart.
        slots: ['lb:config'],
        data,
      };
    },
    async apply(ctx, record, _update, signal) {
      const next = nextConfigs.get(record.data);
      if (!next) throw new FaultlineError('INTERNAL', `${name}: apply runs only in the process that planned it`);
      const { lbId, kind, config } = record.data;
      const previous = Buffer.from(record.data.previousBase64, 'base64');
      // The edge's own binary judges the new config before anything is reloaded; a bad one goes back at once.
      const candidate = { key: 'config' as const, path: config.path, mode: config.mode };
      const undo = edgeUndo(
        [{ path: config.path, mode: config.mode, ifSha256: record.data.nextSha256, content: previous }],
        kind === 'haproxy' ? 'SIGUSR2' : 'SIGHUP',
      );
      await execOk(ctx, lbId, switchArgv(record.id, armScript(record.id, switchSeconds(ctx.maxDurationMs), undo)), {
        what: `${name}: arming its switch`,
        toEnd: true,
      });
      await putEdgeFiles(ctx, lbId, [{ ...candidate, content: next }]);
      const valid = await ctx.docker.exec(lbId, VALIDATE[kind](config.path));
      if (valid.exitCode !== 0) {
        await putEdgeFiles(ctx, lbId, [{ ...candidate, content: previous }]);
        throw new FaultlineError(
          'INVALID_INPUT',
          `${name}: the ${kind} edge refuses the changed config: ${(valid.stderr || valid.stdout).trim().slice(0, 400)}`,
        );
      }
      await reloadEdgeUntil(ctx, record.data, async () => (await probe(ctx, record.data.ruleId, signal)).active, `the edge to serve ${name}`, signal).catch(
        async (err: unknown) => {
          throw new FaultlineError('INTERNAL', `${name}: the ${kind} edge did not take the change${await edgeLogTail(ctx, lbId, kind)}`, { cause: err });
        },
      );
    },
    async revert(ctx, record, signal) {
      const { lbId, kind, config } = record.data;
      const info = await ctx.docker.findContainer(lbId);
      if (!info) {
        ctx.log(`${name}: ${lbId.slice(0, 12)} no longer exists; nothing to put back`);
        return;
      }
      const previous = Buffer.from(record.data.previousBase64, 'base64');
      const now = await ctx.docker.readFile(lbId, config.path).catch(() => undefined);
      const nowSha = now ? sha256Hex(now) : undefined;
      // A config someone replaced since (neither ours nor the original) stays; the original goes back only over ours.
      if (nowSha !== undefined && nowSha !== record.data.nextSha256 && nowSha !== sha256Hex(previous)) {
        ctx.log(`${name}: ${config.path} was replaced since the fault took effect; it stays as it is`);
      } else if (nowSha !== sha256Hex(previous)) {
        await putEdgeFiles(ctx, lbId, [{ key: 'config', path: config.path, mode: config.mode, content: previous }]);
      }
      if (info.running) {
        await reloadEdgeUntil(
          ctx,
          record.data,
          async () => !(await probe(ctx, record.data.ruleId, signal)).active,
          'the edge to serve its original configuration',
          signal,
        ).catch(async (err: unknown) => {
          throw new FaultlineError('REVERT_FAILED', `${name}: ${(err as Error).message}${await edgeLogTail(ctx, lbId, kind)}`, { cause: err });
        });
      }
      const disarm = await ctx.docker
        .exec(lbId, ['sh', '-c', disarmScript(record.id)])
        .catch((err: unknown) => ({ exitCode: -1, stderr: (err as Error).message }));
      if (disarm.exitCode !== 0) ctx.log(`${name}: could not disarm its switch: ${disarm.stderr.trim().slice(0, 200)}`);
      await removeEdgeFiles(ctx, lbId, record.data.created);
    },
    check: (ctx, record, signal) => probe(ctx, record.data.ruleId, signal),
  };
}

export const edgeHttpFaults = [
  define(
    'edge-abort',
    'abort',
    'the TLS edge answers a status (default 503) to a share of the HTTPS requests (percent, optional path prefix and method)',
    abortParams,
  ),
  define('edge-delay', 'delay', 'the TLS edge holds a share of the HTTPS requests for a delay before passing them on (HAProxy)', delayParams),
];
