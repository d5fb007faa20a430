// The runner: validate → steady state before (if it fails, nothing is injected) → load → method on its
// schedule → revert → steady state after → judge → rollbacks, always (also after Ctrl-C or a failed step).
// Every activity lands in the journal; a failed activity is recorded, not thrown through the run.

import { FaultlineError, asFaultlineError, isAbortError } from '../errors.js';
import { startLoad, Timeline, WriteLedger, loadResultToJSON, type LoadEvent, type LoadJob, type LoadResult } from '../load/index.js';
import { injectFault, createFaultContext, MAX_HOLD_EXTENSION_MS, revertRecorded, type ActiveFault, type FaultContext, type FaultRegistry } from '../faults/index.js';
import { runProbe, runContinuously } from '../probes/runner.js';
import { parseTolerance, withinTolerance } from '../probes/tolerance.js';
import { analyzeRecovery, type RecoveryReport } from '../probes/recovery.js';
import type { AnyProbe, Finding, Observation, ProbeContext } from '../probes/types.js';
import { ReferenceStack, attachStack, isHelper, isReady, type StartedStack } from '../stack/stack.js';
import type { StackOptions } from '../stack/config.js';
import { retryUntil } from '../util/retry.js';
import { request } from '../util/http.js';
import { evaluateAssertions } from './assertions.js';
import { readErrorRatioDuring, steadyFigures, unsteadySpans, writeOutage } from './metrics.js';
import type { Experiment, ProbeStep, FaultStep, RollbackStep } from './schema.js';
import type { ActivityRecord, ExperimentJournal, FaultWindow, Phase } from './journal.js';

export interface ProbeCatalogue {
  get(name: string): AnyProbe;
  list(): AnyProbe[];
}

export interface RunnerDeps {
  faults: FaultRegistry;
  probes: ProbeCatalogue;
}

export interface RunOptions {
  signal: AbortSignal;
  log?: (line: string) => void;
  onLoadEvent?: (event: LoadEvent) => void;
  /** Stack options from the command line; the experiment's own stack.project wins. */
  stack?: Partial<StackOptions>;
  versions?: Record<string, string>;
}

const iso = (ms = Date.now()) => new Date(ms).toISOString();

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const SEED_ITEMS = 20;
/**
 * How much longer than its `for` a fault is held while probes `during` it are still looking: the fault
 * engine's limit, from which the helpers' dead man's switch is derived (so it never fires first).
 */
const PROBE_HOLD_LIMIT_MS = MAX_HOLD_EXTENSION_MS;

/**
 * The final safety net of a run: reverts every fault it still holds (each one tried, whatever the others
 * did), then everything it recorded, this process's own records included (a fault whose apply and own revert
 * both failed is still recorded, and this process is its holder). Throws REVERT_FAILED naming every fault
 * that is still in effect.
 */
export async function revertRunFaults(active: Iterable<ActiveFault>, ctx: FaultContext, registry: FaultRegistry): Promise<{ reverted: string[]; helpersRemoved: number }> {
  // A failed revert keeps its record, so the pass over the records below tries it once more and is the
  // verdict; a record that is gone was reverted (by this run or by `faultline revert`).
  for (const f of [...active]) await f.revert(AbortSignal.timeout(120_000)).catch((err: unknown) => ctx.log(`revert of ${f.id} failed: ${asFaultlineError(err).message}`));
  const summary = await revertRecorded(ctx, registry, { all: false, own: true, log: ctx.log });
  if (summary.failed.length) {
    throw new FaultlineError('REVERT_FAILED', summary.failed.map((f) => f.error.message).join('; '), { hint: `still recorded in ${ctx.store.path}; run \`faultline revert --all --project ${ctx.stack.project}\`` });
  }
  return { reverted: summary.reverted.map((r) => r.id), helpersRemoved: summary.helpersRemoved };
}

/**
 * The run's status once rollbacks ran: a failed rollback makes it an error even after an interrupt, since a
 * stack left damaged (exit 4) matters more than the interrupt (130). Pure apart from the journal it updates.
 */
export function settleAfterRollbacks(journal: ExperimentJournal): void {
  const failed = journal.rollbacks.filter((r) => r.status !== 'succeeded');
  if (!failed.length) return;
  const interrupted = journal.status === 'interrupted';
  journal.status = 'error';
  journal.reason = `${interrupted ? 'interrupted, and ' : ''}a rollback failed: ${failed.map((r) => r.error).join('; ')}`;
}

/** Writes a few rows before load so that reads by id find something; answers the range of their ids. */
async function seedItems(baseUrl: string, ca: string | Buffer | undefined, signal: AbortSignal): Promise<{ min: number; max: number }> {
  const ids: number[] = [];
  for (let i = 0; i < SEED_ITEMS; i++) {
    const key = `seed-${Date.now().toString(36)}-${i}`;
    const res = await request(`${baseUrl}/items`, { method: 'POST', body: JSON.stringify({ key, value: key }), ...(ca ? { ca } : { insecure: true }), signal, timeoutMs: 10_000 });
    const id = res.status === 201 ? Number((JSON.parse(res.body) as { id?: unknown }).id) : NaN;
    if (!Number.isInteger(id)) throw new FaultlineError('STACK_FAILED', `seeding rows for reads: POST /items answered ${res.status}`);
    ids.push(id);
  }
  return { min: Math.min(...ids), max: Math.max(...ids) };
}

/** The scalar a step's tolerance is matched against: probes with structured values name their headline field. */
export function headline(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    for (const key of ['holes', 'grade', 'running', 'difference', 'status', 'healthy', 'availability']) if (key in v) return v[key];
  }
  return value;
}

/** A probe's verdict: the step's own tolerance when it declares one, otherwise the probe's. */
function verdict(step: ProbeStep, o: Observation): boolean {
  if (o.error) return false;
  if (step.tolerance === undefined) return o.passed;
  const t = parseTolerance(step.tolerance);
  return t ? withinTolerance(headline(o.value), t) : o.passed;
}

function emptyJournal(exp: Experiment, versions: Record<string, string>): ExperimentJournal {
  const now = iso();
  return {
    version: 1,
    kind: 'experiment',
    id: exp.id,
    title: exp.title,
    description: exp.description,
    file: exp.file,
    status: 'error',
    reason: '',
    startedAt: now,
    endedAt: now,
    durationMs: 0,
    versions,
    stack: null,
    steadyStateBefore: { met: null, activities: [] },
    method: [],
    steadyStateAfter: { met: null, activities: [] },
    rollbacks: [],
    faultWindows: [],
    loadStartedAt: null,
    load: null,
    metrics: {},
    findings: {},
    assertions: [],
  };
}

export class ExperimentRunner {
  constructor(private readonly deps: RunnerDeps) {}

  async run(exp: Experiment, options: RunOptions): Promise<ExperimentJournal> {
    const log = options.log ?? (() => undefined);
    const journal = emptyJournal(exp, options.versions ?? {});
    const started = Date.now();
    const active = new Set<ActiveFault>();
    let stack: StartedStack | undefined;
    try {
      stack = await this.acquireStack(exp, options, log);
      journal.stack = await stack.describe();
      await this.execute(exp, stack, journal, active, options, log);
    } catch (err) {
      const e = asFaultlineError(err);
      const interrupted = options.signal.aborted || e.code === 'ABORTED';
      journal.status = interrupted ? 'interrupted' : 'error';
      journal.reason = interrupted ? 'interrupted; rollbacks ran' : `the run failed: ${e.message}`;
      journal.error = e.message;
    } finally {
      // Rollbacks always run, with fresh signals: an interrupt must never cancel a cleanup.
      await this.rollbacks(exp, stack, active, journal, log);
      journal.endedAt = iso();
      journal.durationMs = Date.now() - started;
    }
    return journal;
  }

  private async acquireStack(exp: Experiment, options: RunOptions, log: (l: string) => void): Promise<StartedStack> {
    const overrides: Partial<StackOptions> = { ...options.stack, ...(exp.stack.project ? { project: exp.stack.project } : {}) };
    if (exp.stack.bring_up) return new ReferenceStack(overrides).up({ signal: options.signal, log });
    const stack = await attachStack(overrides);
    const containers = await stack.containers();
    if (!containers.length || !containers.every(isReady)) {
      throw new FaultlineError('STACK_FAILED', `stack ${stack.project} is not running and healthy (bring_up is false)`, { hint: 'faultline stack up' });
    }
    return stack;
  }

  private probeContext(stack: StartedStack, extra: Partial<ProbeContext> = {}): ProbeContext {
    return { stack, docker: stack.docker, ...extra };
  }

  private async probeOnce(step: ProbeStep, phase: Phase, ctx: ProbeContext, signal: AbortSignal, job?: LoadJob): Promise<ActivityRecord> {
    const start = Date.now();
    const startMs = job?.elapsedMs();
    const o = await runProbe(this.deps.probes.get(step.probe), ctx, step.params, signal);
    const passed = verdict(step, o);
    return {
      kind: 'probe',
      name: step.probe,
      title: step.title,
      phase,
      status: o.error ? 'error' : passed ? 'succeeded' : 'failed',
      start: iso(start),
      end: iso(),
      startMs,
      endMs: job?.elapsedMs(),
      params: step.params,
      tolerance: step.tolerance ?? o.tolerance,
      output: o,
      error: o.error?.message,
    };
  }

  private async steadyState(exp: Experiment, stack: StartedStack, phase: Phase, signal: AbortSignal): Promise<{ met: boolean | null; activities: ActivityRecord[] }> {
    if (!exp.steady_state.length) return { met: null, activities: [] };
    const activities: ActivityRecord[] = [];
    for (const step of exp.steady_state) activities.push(await this.probeOnce(step, phase, this.probeContext(stack), signal));
    return { met: activities.every((a) => a.status === 'succeeded'), activities };
  }

  private async execute(exp: Experiment, stack: StartedStack, journal: ExperimentJournal, active: Set<ActiveFault>, options: RunOptions, log: (l: string) => void): Promise<void> {
    const { signal } = options;
    log(`steady state before: ${exp.steady_state.length} probe(s)`);
    journal.steadyStateBefore = await this.steadyState(exp, stack, 'steady-state-before', signal);
    if (journal.steadyStateBefore.met === false) {
      journal.status = 'steady-state-failed';
      const failed = journal.steadyStateBefore.activities.filter((a) => a.status !== 'succeeded').map((a) => a.name);
      journal.reason = `the steady state did not hold before the method (${failed.join(', ')}), so no fault was injected`;
      return;
    }

    const l = exp.load;
    // With a mix, request kinds pick their own paths under the URL's path, so the URL is the stack's root.
    const url = l.mix ? `${stack.httpsUrl}/` : `${stack.httpsUrl}${l.path}`;
    log(`load: ${l.driver} ${l.rate !== undefined ? `${typeof l.rate === 'number' ? l.rate : `${l.rate.from}→${l.rate.to}`} req/s` : `${l.connections ?? 10} connections`} for ${l.duration / 1000} s against ${url}`);
    const ca = l.insecure ? undefined : await stack.ca();
    // Reads by id need rows to read: a fresh stack has none until the run's first writes are acknowledged.
    const idRange = l.mix && /\bread\s*=\s*[1-9]/.test(l.mix) ? await seedItems(stack.httpsUrl, ca, signal) : undefined;
    const job = startLoad(
      {
        url,
        ...(idRange ? { idRange } : {}),
        ...(l.rate !== undefined ? { rate: l.rate } : {}),
        ...(l.connections !== undefined ? { connections: l.connections } : {}),
        ...(l.mix ? { mix: l.mix } : {}),
        durationMs: l.duration,
        bucketMs: l.bucket,
        ...(l.max_in_flight ? { maxInFlight: l.max_in_flight } : {}),
        ...(l.timeout ? { timeoutMs: l.timeout } : {}),
        ...(ca === undefined ? { insecure: true } : { ca }),
      },
      { signal, ...(options.onLoadEvent ? { onEvent: options.onLoadEvent } : {}) },
    );
    journal.loadStartedAt = iso();
    const loadDone = new AbortController();
    const methodSignal = AbortSignal.any([signal, loadDone.signal]);
    const windows: FaultWindow[] = [];

    // Probes declared `during: <fault>` wait for that fault to be in effect (or for the method to end).
    const inEffect = new Map<string, { promise: Promise<boolean>; resolve: (v: boolean) => void }>();
    const effectOf = (name: string) => {
      let e = inEffect.get(name);
      if (!e) {
        let resolve!: (v: boolean) => void;
        const promise = new Promise<boolean>((r) => (resolve = r));
        e = { promise, resolve };
        inEffect.set(name, e);
      }
      return e;
    };
    methodSignal.addEventListener('abort', () => inEffect.forEach((e) => e.resolve(false)), { once: true });
    // A fault is held at least until the probes looking `during` it are done: a slow look must not miss it.
    const looking = new Map<string, Array<Promise<unknown>>>();
    const lookers = (name: string) => {
      let list = looking.get(name);
      if (!list) looking.set(name, (list = []));
      return list;
    };

    const faultTask = async (step: FaultStep): Promise<ActivityRecord> => {
      const record: ActivityRecord = { kind: 'fault', name: step.fault, title: step.title, phase: 'method', status: 'succeeded', start: '', end: '', target: step.target, params: step.params };
      try {
        await sleep(step.at - job.elapsedMs(), signal);
        const configured = this.deps.faults.configure(step.fault, { target: step.target, params: step.params });
        const ctx = createFaultContext(stack, { log, holdMs: step.for ?? 0 });
        record.start = iso();
        record.startMs = job.elapsedMs();
        log(`t=${(record.startMs / 1000).toFixed(1)}s inject ${step.fault}${step.target ? ` on ${step.target}` : ''}`);
        const fault = await injectFault(ctx, configured, signal, { holdMs: step.for ?? 0 });
        active.add(fault);
        const window: FaultWindow = { name: step.fault, startMs: record.startMs, endMs: null };
        windows.push(window);
        job.markFault(step.fault, true);
        record.target = fault.record.targets.map((t) => t.service || t.name).join(', ');
        record.output = { id: fault.id, steps: fault.record.steps, effectiveAfterMs: job.elapsedMs() - record.startMs };
        effectOf(step.fault).resolve(true);
        try {
          await sleep(step.for ?? 0, signal);
          const looked = new AbortController();
          await Promise.race([
            Promise.all(looking.get(step.fault) ?? []).finally(() => looked.abort()),
            sleep(PROBE_HOLD_LIMIT_MS, AbortSignal.any([signal, looked.signal])).catch((err: unknown) => {
              if (signal.aborted) throw err;
            }),
          ]);
        } finally {
          // The fault ends when its revert starts: the time a revert takes (a restart, a reload) is recovery
          // time the stack needs, and belongs after the window, not hidden inside it.
          window.endMs = job.elapsedMs();
          record.endMs = window.endMs;
          job.markFault(step.fault, false);
          log(`t=${(window.endMs / 1000).toFixed(1)}s revert ${step.fault}`);
          await fault.revert(AbortSignal.timeout(120_000));
          active.delete(fault);
          record.output = { ...(record.output as Record<string, unknown>), revertMs: Math.round(job.elapsedMs() - window.endMs) };
          log(`t=${(job.elapsedMs() / 1000).toFixed(1)}s reverted ${step.fault}`);
        }
      } catch (err) {
        const e = asFaultlineError(err);
        effectOf(step.fault).resolve(false);
        record.status = signal.aborted || isAbortError(err) ? 'interrupted' : 'error';
        record.error = e.message;
        if (e.code === 'REVERT_FAILED') throw e;
      } finally {
        record.end = iso();
      }
      return record;
    };

    const probeTask = async (step: ProbeStep): Promise<ActivityRecord[]> => {
      const ctx = this.probeContext(stack);
      if (step.every !== undefined) {
        const start = iso();
        const startMs = job.elapsedMs();
        const observations = await runContinuously(this.deps.probes.get(step.probe), ctx, { intervalMs: step.every, signal: methodSignal, params: step.params, maxDurationMs: l.duration + 5000 });
        const failed = observations.filter((o) => !verdict(step, o));
        return [
          {
            kind: 'probe',
            name: step.probe,
            title: step.title,
            phase: 'method',
            status: observations.some((o) => o.error) ? 'error' : failed.length ? 'failed' : 'succeeded',
            start,
            end: iso(),
            startMs,
            endMs: job.elapsedMs(),
            params: step.params,
            tolerance: step.tolerance,
            output: { observations: observations.map((o) => ({ t: o.timestamp, value: o.value, passed: verdict(step, o), findings: o.findings })) },
            error: observations.find((o) => o.error)?.error?.message,
          },
        ];
      }
      if (step.during !== undefined) {
        // A fault that never took effect leaves nothing to look at: the probe is skipped, not failed.
        if (!(await effectOf(step.during).promise)) return [];
        return [await this.probeOnce(step, 'method', ctx, signal, job)];
      }
      await sleep((step.at ?? 0) - job.elapsedMs(), methodSignal).catch(() => undefined);
      if (methodSignal.aborted && !signal.aborted && step.at !== undefined && step.at > job.elapsedMs()) return [];
      return [await this.probeOnce(step, 'method', ctx, signal, job)];
    };

    const tasks = exp.method.map((step) => {
      if ('fault' in step) return faultTask(step).then((r) => [r]);
      const task = probeTask(step);
      if (step.during !== undefined) lookers(step.during).push(task.catch(() => undefined));
      return task;
    });
    const loadResult = job.result.finally(() => loadDone.abort());
    const settled = await Promise.allSettled(tasks);
    const result: LoadResult = await loadResult;
    for (const s of settled) if (s.status === 'fulfilled') journal.method.push(...s.value);
    journal.method.sort((a, b) => (a.startMs ?? 0) - (b.startMs ?? 0));
    journal.faultWindows = windows.sort((a, b) => a.startMs - b.startMs);
    journal.load = loadResultToJSON(result);
    const revertFailure = settled.find((s) => s.status === 'rejected');
    if (revertFailure) throw (revertFailure as PromiseRejectedResult).reason;
    signal.throwIfAborted();

    await this.judge(exp, stack, journal, result, signal, log);
  }

  private async judge(exp: Experiment, stack: StartedStack, journal: ExperimentJournal, result: LoadResult, signal: AbortSignal, log: (l: string) => void): Promise<void> {
    const timeline: Timeline = result.timeline;
    const ledger: WriteLedger = result.ledger;
    const runEnd = timeline.length * timeline.bucketMs;
    const recovery: RecoveryReport = analyzeRecovery(timeline, journal.faultWindows, { warmupMs: exp.load.warmup });
    journal.findings.recovery = recovery;
    const m: Record<string, number | string | null> = {};
    m.requests = result.summary.intended;
    m.availability = recovery.availability;
    m.error_ratio = result.summary.errorRatio;
    m.p99_ms = result.summary.latency.p99;
    const steady = steadyFigures(timeline, unsteadySpans(recovery, journal.faultWindows, exp.load.warmup, runEnd));
    m.error_ratio_outside_faults = steady.errorRatio;
    m.p99_ms_outside_faults = steady.p99Ms;
    const detects = recovery.faults.map((f) => f.timeToDetectMs).filter((v): v is number => v !== null);
    m.time_to_detect_s = detects.length ? Math.max(...detects) / 1000 : null;
    // A fault that never hurt needs no recovery: 0. One that hurt and never recovered: not measurable (null).
    const ttr = recovery.faults.map((f) => (f.detectedAtMs === null ? 0 : f.timeToRecoverMs));
    m.time_to_recover_s = ttr.length && ttr.every((v) => v !== null) ? Math.max(...(ttr as number[])) / 1000 : ttr.length ? null : 0;
    m.error_budget_consumed = recovery.errorBudgetConsumed;

    const writes = ledger.records();
    if (writes.length) {
      const firstFault = journal.faultWindows[0]?.startMs ?? 0;
      const outage = writeOutage(writes, firstFault, runEnd);
      journal.findings.writeOutage = outage;
      m.write_outage_s = outage ? outage.durationMs / 1000 : 0;
      const c = ledger.counts();
      m.write_error_ratio = c.attempted ? (c.fail + c.unknown) / c.attempted : null;
      m.writes_acknowledged = c.ok;
      m.read_error_ratio_during_faults = readErrorRatioDuring(timeline, ledger, journal.faultWindows, runEnd);
      // The Jepsen set check, after faults are healed and the replica caught up.
      log('checking writes against the database (data-loss probe)');
      const dataLoss = await this.tryProbe('data-loss', this.probeContext(stack, { ledger }), {}, signal);
      journal.findings.dataLoss = dataLoss;
      const check = (dataLoss?.details as { check?: { lost: string[]; unexpected: string[]; recovered: string[] } | null } | undefined)?.check ?? null;
      m.data_loss_status = typeof dataLoss?.value === 'string' ? dataLoss.value : 'unknown';
      m.lost_writes = check ? check.lost.length : null;
      m.unexpected_writes = check ? check.unexpected.length : null;
      m.recovered_writes = check ? check.recovered.length : null;
    } else {
      m.read_error_ratio_during_faults = readErrorRatioDuring(timeline, null, journal.faultWindows, runEnd);
    }

    this.probeMetrics(journal, m);
    journal.steadyStateAfter = await this.steadyState(exp, stack, 'steady-state-after', signal);
    journal.metrics = m;
    journal.assertions = evaluateAssertions(exp.assertions, m);
    const failedAssertions = journal.assertions.filter((a) => !a.passed);
    const methodErrors = journal.method.filter((a) => a.status === 'error');
    if (methodErrors.length) {
      journal.status = 'error';
      journal.reason = `${methodErrors.map((a) => `${a.kind} ${a.name}: ${a.error}`).join('; ')}`;
    } else if (failedAssertions.length || journal.steadyStateAfter.met === false) {
      journal.status = 'failed';
      const parts = failedAssertions.map((a) => `${a.name} (measured ${a.value ?? 'n/a'})`);
      if (journal.steadyStateAfter.met === false) parts.push('the steady state did not hold after the method');
      journal.reason = `failed: ${parts.join('; ')}`;
    } else {
      journal.status = 'passed';
      journal.reason = `all ${journal.assertions.length} assertion(s) held${journal.steadyStateAfter.met ? ' and the steady state held after the method' : ''}`;
    }
  }

  /** Headline figures from probe observations made during the run (TLS grade, holes, lag, QPS agreement). */
  private probeMetrics(journal: ExperimentJournal, m: Record<string, number | string | null>): void {
    const order = ['A+', 'A', 'A-', 'B', 'C', 'D', 'E', 'F', 'T'];
    type Look = { value: unknown; findings: Finding[]; details: Record<string, unknown> };
    const looks = (name: string, acts: ActivityRecord[]): Look[] =>
      acts
        .filter((a) => a.kind === 'probe' && a.name === name && a.status !== 'error')
        .flatMap((a) => {
          const out = a.output as (Observation & { observations?: undefined }) | { observations: Array<Look> } | undefined;
          if (!out) return [];
          if (out.observations) return out.observations.map((o) => ({ value: o.value, findings: o.findings ?? [], details: {} }));
          const o = out as Observation;
          return [{ value: o.value, findings: o.findings, details: o.details }];
        });
    const field = (l: Look, key: string): unknown => (l.value && typeof l.value === 'object' ? (l.value as Record<string, unknown>)[key] : undefined);
    const worstGrade = (list: Look[]) => {
      const grades = list.map((l) => field(l, 'grade')).filter((g): g is string => typeof g === 'string' && order.includes(g));
      return grades.length ? grades.sort((a, b) => order.indexOf(b) - order.indexOf(a))[0]! : null;
    };
    const maxOf = (list: Look[], key: string) => {
      const v = list.map((l) => field(l, key)).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      return v.length ? Math.max(...v) : null;
    };
    const steady = journal.steadyStateBefore.activities;
    const method = journal.method;
    const tlsMethod = looks('tls', method);
    const tlsSteady = looks('tls', steady);
    m.tls_grade = worstGrade(tlsMethod.length ? tlsMethod : tlsSteady);
    m.steady_tls_grade = worstGrade(tlsSteady);
    const tlsWorst = [...tlsMethod, ...tlsSteady].sort((a, b) => order.indexOf(String(field(b, 'grade'))) - order.indexOf(String(field(a, 'grade'))))[0];
    if (tlsWorst) {
      journal.findings.tls = {
        grade: field(tlsWorst, 'grade'),
        internalGrade: field(tlsWorst, 'internalGrade') ?? null,
        findings: tlsWorst.findings.filter((f) => f.severity !== 'info').map((f) => ({ id: f.id, severity: f.severity, title: f.message, detail: f.where })),
      };
      m.internal_plaintext = tlsWorst.findings.some((f) => /plaintext/i.test(f.id)) ? 1 : 0;
    }
    const expMethod = looks('exposure', method);
    const expSteady = looks('exposure', steady);
    m.exposure_holes = maxOf(expMethod.length ? expMethod : expSteady, 'holes');
    m.steady_exposure_holes = maxOf(expSteady, 'holes');
    const withHoles = [...expMethod, ...expSteady].sort((a, b) => Number(field(b, 'holes') ?? 0) - Number(field(a, 'holes') ?? 0))[0];
    if (withHoles) {
      const holes = (withHoles.details.holes as Array<{ vantage: string; server: string; port: number }> | undefined) ??
        withHoles.findings.filter((f) => f.id === 'hole').map((f) => {
          const mm = /^(\S+) → (\S+).*:(\d+)$/.exec(f.where ?? '');
          return { vantage: mm?.[1] ?? '', server: mm?.[2] ?? '', port: Number(mm?.[3] ?? 0) };
        });
      journal.findings.exposure = { holes: holes.map((h) => ({ vantage: h.vantage, server: h.server, port: h.port })) };
    }
    m.replication_lag_s = maxOf(looks('replication', [...steady, ...method]), 'lagSeconds');
    const qps = looks('qps', method).map((l) => field(l, 'difference')).filter((v): v is number => typeof v === 'number');
    m.qps_difference_ratio = qps.length ? Math.max(...qps.map(Math.abs)) : null;
  }

  private async tryProbe(name: string, ctx: ProbeContext, params: unknown, signal: AbortSignal): Promise<Observation | null> {
    try {
      return await runProbe(this.deps.probes.get(name), ctx, params, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      return null;
    }
  }

  private async rollbacks(exp: Experiment, stack: StartedStack | undefined, active: Set<ActiveFault>, journal: ExperimentJournal, log: (l: string) => void): Promise<void> {
    if (!stack) return;
    const steps: RollbackStep[] = [{ action: 'revert-faults' }, ...exp.rollbacks.filter((r) => r.action !== 'revert-faults')];
    for (const step of steps) {
      const start = Date.now();
      const record: ActivityRecord = { kind: 'rollback', name: step.action, phase: 'rollback', status: 'succeeded', start: iso(start), end: '', target: step.target };
      try {
        if (step.action === 'revert-faults') {
          record.output = await revertRunFaults(active, createFaultContext(stack, { log }), this.deps.faults);
        } else if (step.action === 'restart') {
          if (!step.target) throw new FaultlineError('INVALID_INPUT', 'rollbacks: restart needs a target');
          const c = (await stack.containers()).filter((x) => x.service === step.target || x.name === step.target);
          if (!c.length) throw new FaultlineError('UNKNOWN_TARGET', `no container ${step.target} in stack ${stack.project}`);
          for (const x of c) await stack.docker.restart(x.id, 5);
        } else if (step.action === 'wait-healthy') {
          await retryUntil(() => stack.containers(), (list) => list.filter((c) => !isHelper(c)).every(isReady), { timeoutMs: step.timeout ?? 60_000, intervalMs: 500, what: 'every container to be healthy' });
        }
      } catch (err) {
        record.status = 'error';
        record.error = asFaultlineError(err).message;
        log(`rollback ${step.action} failed: ${record.error}`);
      } finally {
        record.end = iso();
        journal.rollbacks.push(record);
      }
    }
    settleAfterRollbacks(journal);
  }
}

/** Re-hydrates the live objects of a journal's load, for reporters that need them. */
export function timelineOf(journal: ExperimentJournal): Timeline | null {
  return journal.load ? Timeline.fromJSON(journal.load.timeline) : null;
}
