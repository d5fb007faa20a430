// The built-in `action: exec`: a command in the stack's containers with a timeout that really ends it, as a method step
// or a rollback, recorded as an activity of kind 'action'. An exec is not a fault, so nothing is reverted; but a command
// still running at its deadline, or when the run is interrupted, is killed with every process it started.

import { randomUUID } from 'node:crypto';
import { asFaultlineError } from '../errors.js';
import { BlastRadiusError } from '../faults/blast-radius.js';
import { createFaultContext } from '../faults/engine.js';
import { redactSecrets } from '../faults/redact.js';
import { assertStackContainer, resolveContainers, toRef } from '../faults/targets.js';
import type { TargetRef } from '../faults/types.js';
import type { TimelineEntry } from '../faults/format.js';
import type { LoadJob } from '../load/index.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { ContainerSummary } from '../stack/docker-client.js';
import type { ContainerEngine } from '../stack/engine.js';
import { sleep } from '../util/sleep.js';
import { iso, type LoadClock } from './activities.js';
import type { ExecSpec, ExecStep } from './exec-schema.js';
import type { ActivityRecord, ActivityStatus, Phase } from './journal.js';

/** How much of each stream the journal keeps: the end, where a command says why it failed. */
export const TAIL_BYTES = 2048;
/** After the kill, how long the exec's stream may take to close before faultline stops waiting for it. */
const KILL_GRACE_MS = 10_000;
/** The backstop `timeout` inside the container fires this long after the deadline: only when faultline itself died. */
const BACKSTOP_MARGIN_S = 30;

/** The argv that runs: a list as it is, a string through `sh -c`. Pure. */
export function argvOf(command: string | string[]): string[] {
  return typeof command === 'string' ? ['sh', '-c', command] : command;
}

/** The command as a line for logs and the dry run: a string as written, a list with its arguments quoted where needed. Pure. */
export function describeCommand(command: string | string[]): string {
  if (typeof command === 'string') return command;
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** The last `bytes` of a stream (UTF-8), marked when cut; private keys redacted (redact.ts). Pure. */
export function tail(text: string, bytes = TAIL_BYTES): string {
  const buf = Buffer.from(text, 'utf8');
  const kept = buf.length <= bytes ? text : `…${buf.subarray(buf.length - bytes).toString('utf8')}`;
  return redactSecrets(kept);
}

/**
 * What runs in the container: the command under coreutils' `timeout -s KILL` at the deadline plus a margin when the
 * image has GNU coreutils (a backstop that ends it even when faultline was killed and cannot), else the command itself.
 * `exec` keeps the command's argv as given and the exec's process the command's own. Pure.
 */
export function wrappedArgv(argv: string[], timeoutMs: number): string[] {
  const backstop = String(Math.ceil(timeoutMs / 1000) + BACKSTOP_MARGIN_S);
  const script = 'b=$1; shift; if timeout --version >/dev/null 2>&1; then exec timeout -s KILL "$b" "$@"; fi; exec "$@"';
  return ['sh', '-c', script, 'faultline-exec', backstop, ...argv];
}

/**
 * Kills every process of one exec in a container, needing only `sh`, `cat` and /proc (no ps, grep or pkill, which
 * slim images lack): those whose environment carries the exec's marker (children inherit it), and every process of
 * the sessions they lead (Docker starts an exec in a session of its own, so a child that cleared its environment is
 * still found). Never PID 1 or itself. Repeats until nothing is left, since a dying shell may still fork. Prints what it killed.
 */
export const KILL_SCRIPT = `M=$1; sids=' '; n=0
while [ "$n" -lt 5 ]; do
  n=$((n + 1)); hit=''
  for p in /proc/[0-9]*; do
    pid=\${p#/proc/}
    if [ "$pid" = 1 ] || [ "$pid" = "$$" ]; then continue; fi
    { read -r l < "$p/stat"; } 2>/dev/null || continue
    set -- \${l##*) }
    [ "$1" = Z ] && continue
    case "$(cat "$p/environ" 2>/dev/null)" in
      *"$M"*) sids="$sids$pid " ;;
      *) case "$sids" in *" $4 "*) ;; *) continue ;; esac ;;
    esac
    kill -KILL "$pid" 2>/dev/null && hit="$hit $pid"
  done
  [ -z "$hit" ] && break
  echo "$hit"
done`;

/** One target's run. */
export interface ExecTargetResult {
  target: string;
  container: string;
  /** null when it never ran (or its end could not be read). */
  exitCode: number | null;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** Killed at its deadline / by an interrupt; `killed` counts the processes the kill ended. */
  timedOut?: true;
  interrupted?: true;
  killed?: number;
  error?: string;
}

/** The activity's status and its one line, from each target's result (timeout = failed, with the reason). Pure. */
export function execVerdict(spec: Pick<ExecSpec, 'expect_exit' | 'timeout'>, results: ExecTargetResult[]): { status: ActivityStatus; error?: string } {
  const interrupted = results.filter((r) => r.interrupted).map((r) => r.target);
  if (interrupted.length) return { status: 'interrupted', error: `interrupted; the command was killed on ${interrupted.join(', ')}` };
  const errors = results.filter((r) => r.error !== undefined);
  if (errors.length) return { status: 'error', error: errors.map((r) => `${r.target}: ${r.error}`).join('; ') };
  const problems = results.flatMap((r) => {
    if (r.timedOut) return [`timed out after ${spec.timeout / 1000} s on ${r.target} (killed)`];
    if (r.exitCode !== spec.expect_exit) return [`exit ${r.exitCode} on ${r.target}, expected ${spec.expect_exit}`];
    return [];
  });
  return problems.length ? { status: 'failed', error: problems.join('; ') } : { status: 'succeeded' };
}

/**
 * The containers an exec runs in: the target resolved as a fault's is, among the stack's own containers only, refused
 * as a whole (BlastRadiusError, exit 2) when it resolves to more than the experiment's max_targets.
 */
export async function resolveExecTargets(stack: AttachedStack, target: string, maxTargets?: number, random?: () => number): Promise<ContainerSummary[]> {
  const ctx = createFaultContext(stack, random ? { random } : {});
  const found = await resolveContainers(ctx, target);
  if (maxTargets !== undefined && found.length > maxTargets) {
    const names = found.map((c) => c.service || c.name).sort();
    throw new BlastRadiusError(
      'INVALID_INPUT',
      `exec on "${target}" resolves to ${found.length} targets (${names.join(', ')}), more than max_targets ${maxTargets}; nothing was run`,
      {
        hint: 'narrow the target (e.g. count:N:role=web) or raise max_targets',
      },
    );
  }
  return found;
}

/**
 * Kills what the exec marked by `marker` still runs in the container; how many processes it ended. As the command's
 * user: Docker's default capabilities let root signal anyone but not read another user's /proc/N/environ.
 */
async function killMarked(docker: ContainerEngine, id: string, marker: string, user: string | undefined): Promise<number> {
  const options = { signal: AbortSignal.timeout(KILL_GRACE_MS), ...(user ? { user } : {}) };
  const res = await docker.exec(id, ['sh', '-c', KILL_SCRIPT, 'faultline-kill', marker], options);
  return res.stdout.split(/\s+/).filter(Boolean).length;
}

/**
 * Runs the command in one container until it ends, its deadline passes or `signal` aborts; at the deadline or the
 * abort every process it started is killed (killMarked), so nothing of it is left running. Never throws.
 */
export async function execIn(docker: ContainerEngine, c: ContainerSummary, spec: ExecSpec, signal: AbortSignal): Promise<ExecTargetResult> {
  const base = { target: c.service || c.name, container: c.id.slice(0, 12), stdout: '', stderr: '' };
  const start = Date.now();
  if (signal.aborted) return { ...base, exitCode: null, durationMs: 0, interrupted: true, error: 'not run: interrupted' };
  const marker = `FAULTLINE_EXEC=${randomUUID()}`;
  const env = [...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`), marker];
  const done = new AbortController();
  // Ends only the wait for the stream, when even the kill did not close it.
  const giveUp = new AbortController();
  let ended: 'timeout' | 'interrupted' | undefined;
  let killed = 0;
  let killing: Promise<void> | undefined;
  const kill = async (why: 'timeout' | 'interrupted') => {
    if (ended || done.signal.aborted) return;
    ended = why;
    // Until the exec is over: on a busy engine the command may start only after a first look found nothing.
    // Root on every other look, for a command that changed its user.
    for (let i = 0, until = Date.now() + KILL_GRACE_MS; !done.signal.aborted && Date.now() < until; i += 1) {
      killed += await killMarked(docker, c.id, marker, i % 2 ? '0' : spec.user).catch(() => 0);
      await sleep(1000, done.signal).catch(() => undefined);
    }
    giveUp.abort(new Error(`the command did not end within ${KILL_GRACE_MS / 1000} s of its kill`));
  };
  const timer = setTimeout(() => (killing ??= kill('timeout')), spec.timeout);
  const onAbort = () => (killing ??= kill('interrupted'));
  signal.addEventListener('abort', onAbort, { once: true });
  const flags = () => ({
    ...(ended === 'timeout' ? { timedOut: true as const } : {}),
    ...(ended === 'interrupted' ? { interrupted: true as const } : {}),
    ...(ended ? { killed } : {}),
  });
  try {
    const argv = wrappedArgv(argvOf(spec.command), spec.timeout);
    const res = await docker.exec(c.id, argv, { env, signal: giveUp.signal, ...(spec.user ? { user: spec.user } : {}) });
    done.abort();
    await killing; // its count of what it killed
    return { ...base, exitCode: res.exitCode, durationMs: Date.now() - start, stdout: tail(res.stdout), stderr: tail(res.stderr), ...flags() };
  } catch (err) {
    done.abort();
    await killing;
    return { ...base, exitCode: null, durationMs: Date.now() - start, ...flags(), error: asFaultlineError(err).message };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** What the journal keeps of a step: the command and its bounds; of the environment only the names (values may be secrets). */
function paramsOf(spec: ExecSpec): Record<string, unknown> {
  return {
    command: spec.command,
    timeoutMs: spec.timeout,
    expect_exit: spec.expect_exit,
    ...(spec.user ? { user: spec.user } : {}),
    ...(spec.env ? { env: Object.keys(spec.env) } : {}),
  };
}

export interface ExecActionOptions {
  phase: Phase;
  /** Interrupts (the run's signal; a rollback's is fresh): the command is killed. */
  signal: AbortSignal;
  maxTargets?: number | undefined;
  log: (line: string) => void;
  /** Offsets from the start of load, for a method step. */
  clock?: LoadClock;
}

/**
 * Runs one exec step on each container its target resolves to (at the same time) and returns its activity record:
 * each target's exit code, duration and the tails of its output. A step that cannot resolve or run is recorded as
 * an error, never thrown.
 */
export async function runExecAction(stack: AttachedStack, spec: ExecSpec, options: ExecActionOptions): Promise<ActivityRecord> {
  const { clock, log } = options;
  const record: ActivityRecord = {
    kind: 'action',
    name: 'exec',
    title: spec.title,
    phase: options.phase,
    status: 'succeeded',
    start: iso(),
    end: '',
    startMs: clock?.elapsedMs(),
    target: spec.target,
    params: paramsOf(spec),
  };
  const at = () => (clock ? `t=${(clock.elapsedMs() / 1000).toFixed(1)}s ` : '');
  try {
    const containers = await resolveExecTargets(stack, spec.target, options.maxTargets);
    const ctx = createFaultContext(stack);
    for (const c of containers) await assertStackContainer(ctx, c.id);
    const refs: TargetRef[] = containers.map(toRef);
    record.target = refs.map((t) => t.service || t.name).join(', ');
    log(`${at()}exec on ${record.target}: ${describeCommand(spec.command)} (timeout ${spec.timeout / 1000} s)`);
    const results = await Promise.all(containers.map((c) => execIn(stack.docker, c, spec, options.signal)));
    const verdict = execVerdict(spec, results);
    record.status = verdict.status;
    record.error = verdict.error;
    record.output = { targets: results };
    if (verdict.error) log(`${at()}exec ${verdict.status}: ${verdict.error}`);
  } catch (err) {
    record.status = options.signal.aborted ? 'interrupted' : 'error';
    record.error = asFaultlineError(err).message;
    log(`${at()}exec could not run: ${record.error}`);
  } finally {
    record.end = iso();
    record.endMs = clock?.elapsedMs();
  }
  return record;
}

/**
 * The method's exec steps on their schedule beside the faults and probes (scheduler.ts): each at its \`at\` while load
 * runs. A step whose time has not come when the load ends (a stop condition ended it early) is skipped, one not begun
 * when the run is interrupted too; a command that runs is bounded by its own timeout. Never throws.
 */
export async function runExecSteps(
  steps: ExecStep[],
  job: Pick<LoadJob, 'elapsedMs' | 'result'>,
  ctx: { stack: AttachedStack; signal: AbortSignal; maxTargets?: number | undefined; log: (line: string) => void },
): Promise<ActivityRecord[]> {
  if (!steps.length) return [];
  const loadEnded = new AbortController();
  const over = () => loadEnded.abort(new Error('the load ended'));
  job.result.then(over, over);
  const wait = AbortSignal.any([ctx.signal, loadEnded.signal]);
  return Promise.all(
    steps.map(async (step): Promise<ActivityRecord> => {
      const { action: _action, at, ...spec } = step;
      try {
        await sleep(at - job.elapsedMs(), wait);
      } catch {
        const interrupted = ctx.signal.aborted;
        return {
          kind: 'action',
          name: 'exec',
          title: step.title,
          phase: 'method',
          status: interrupted ? 'interrupted' : 'skipped',
          start: iso(),
          end: iso(),
          target: step.target,
          params: paramsOf(spec),
          error: interrupted ? 'not run: interrupted' : 'not run: the load ended first (a stop condition fired)',
        };
      }
      return runExecAction(ctx.stack, spec, { phase: 'method', signal: ctx.signal, maxTargets: ctx.maxTargets, log: ctx.log, clock: job });
    }),
  );
}

/** An exec step as \`run --dry-run\` shows it: where it would run (or why it would be refused) and what. Runs nothing. */
export async function execTimelineEntry(
  stack: AttachedStack,
  step: ExecSpec & { at?: number },
  maxTargets: number | undefined,
  signal: AbortSignal,
): Promise<TimelineEntry> {
  const entry: TimelineEntry = { kind: 'action', name: 'exec', target: step.target, ...(step.at !== undefined ? { atMs: step.at } : {}) };
  try {
    const targets = (await resolveExecTargets(stack, step.target, maxTargets)).map(toRef);
    const user = step.user ? ` as ${step.user}` : '';
    const env = step.env ? ` with ${Object.keys(step.env).join(', ')} set` : '';
    const how = typeof step.command === 'string' ? ' (sh -c)' : '';
    const what = `run ${describeCommand(step.command)}${how}${user}${env}; expect exit ${step.expect_exit}; killed after ${step.timeout / 1000} s`;
    entry.plan = { targets, steps: [what], slots: [], data: null };
  } catch (err) {
    signal.throwIfAborted();
    entry.error = asFaultlineError(err);
  }
  return entry;
}

/** One line for a report: when, where, what, and how it ended on each target ("exit 3 in 0.2 s"). Pure. */
export function describeAction(a: ActivityRecord): string {
  const p = (a.params ?? {}) as { command?: string | string[] };
  const results = ((a.output as { targets?: ExecTargetResult[] } | undefined)?.targets ?? []).map((r) =>
    r.error !== undefined
      ? `${r.target}: ${r.error}`
      : `${r.target}: ${r.timedOut ? 'killed at its timeout' : `exit ${r.exitCode}`} in ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  const when = a.phase === 'rollback' ? 'rollback' : a.startMs !== undefined ? `t=${(a.startMs / 1000).toFixed(1)}s` : a.phase;
  const command = p.command === undefined ? '' : ` \`${describeCommand(p.command).replace(/`/g, "'")}\``;
  const detail = results.length ? results.join(', ') : (a.error ?? '');
  return `${when} ${a.title ?? a.name}${command} on ${a.target ?? '-'}: ${a.status}${detail ? ` (${detail})` : ''}`;
}
