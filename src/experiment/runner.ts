// The runner: validate → steady state before (if it fails, nothing is injected) → load → method on its
// schedule → revert → steady state after → judge → rollbacks, always (also after Ctrl-C or a failed step).
// Every activity lands in the journal; a failed activity is recorded, not thrown through the run.

import { checkReadbacks } from '../probes/readback.js';
import { FaultlineError, asFaultlineError } from '../errors.js';
import { startLoad, Timeline, loadResultToJSON, type LoadEvent, type LoadJob } from '../load/index.js';
import { createFaultContext, revertRecorded, type ActiveFault, type FaultContext, type FaultRegistry } from '../faults/index.js';
import { runProbe } from '../probes/runner.js';
import type { AnyProbe, Observation, ProbeContext } from '../probes/types.js';
import { ReferenceStack } from '../stack/reference-stack.js';
import { attachStack, type AttachOptions } from '../stack/attach.js';
import { isHelper, isReady, webServersOf } from '../stack/servers.js';
import { type AttachedStack } from '../stack/attached-stack.js';
import type { StackOptions } from '../stack/config.js';
import { retryUntil } from '../util/retry.js';
import { formatMix, parseMix, validateMix } from '../load/mix.js';
import { endpointTls } from '../stack/endpoint-tls.js';
import type { WriteId } from '../load/ledger.js';
import { seedWrites, seedingWrite } from '../load/workload.js';
import { usesId, workloadRequests, type RequestSpec } from '../load/workload-spec.js';
import { iso, probeOnce } from './activities.js';
import { measure, verdict } from './judge.js';
import { webCapacityLost } from './metrics.js';
import { runMethod } from './scheduler.js';
import type { Experiment, RollbackStep } from './schema.js';
import { newJournal } from './journal.js';
import type { ActivityRecord, ExperimentJournal, Phase } from './journal.js';

export interface ProbeCatalogue {
  get(name: string): AnyProbe;
  list(): AnyProbe[];
}

export interface RunnerDeps {
  faults: FaultRegistry;
  probes: ProbeCatalogue;
}

export interface ExperimentRunOptions {
  signal: AbortSignal;
  log?: (line: string) => void;
  onLoadEvent?: (event: LoadEvent) => void;
  /** Stack options from the command line (--stack FILE among them); the experiment's own stack wins. */
  stack?: AttachOptions;
  versions?: Record<string, string>;
}

const SEED_ITEMS = 20;

/**
 * The final safety net of a run: reverts every fault it still holds (each one tried, whatever the others
 * did), then everything it recorded, this process's own records included (a fault whose apply and own revert
 * both failed is still recorded, and this process is its holder). Throws REVERT_FAILED naming every fault
 * that is still in effect.
 */
export async function revertRunFaults(
  active: Iterable<ActiveFault>,
  ctx: FaultContext,
  registry: FaultRegistry,
): Promise<{ reverted: string[]; helpersRemoved: number }> {
  // A failed revert keeps its record, so the pass over the records below tries it once more and is the
  // verdict; a record that is gone was reverted (by this run or by `faultline revert`).
  for (const f of [...active])
    await f.revert(AbortSignal.timeout(120_000)).catch((err: unknown) => ctx.log(`revert of ${f.id} failed: ${asFaultlineError(err).message}`));
  const summary = await revertRecorded(ctx, registry, { all: false, own: true, log: ctx.log });
  if (summary.failed.length) {
    throw new FaultlineError('REVERT_FAILED', summary.failed.map((f) => f.error.message).join('; '), {
      hint: `still recorded in ${ctx.store.path}; run \`faultline revert --all --project ${ctx.stack.project}\``,
    });
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

function emptyJournal(exp: Experiment, versions: Record<string, string>): ExperimentJournal {
  return newJournal({ id: exp.id, title: exp.title, description: exp.description, file: exp.file }, versions, iso());
}

export class ExperimentRunner {
  constructor(private readonly deps: RunnerDeps) {}

  async run(exp: Experiment, options: ExperimentRunOptions): Promise<ExperimentJournal> {
    const log = options.log ?? (() => undefined);
    const journal = emptyJournal(exp, options.versions ?? {});
    const started = Date.now();
    const active = new Set<ActiveFault>();
    let stack: AttachedStack | undefined;
    try {
      stack = await this.acquireStack(exp, options, log);
      journal.stack = await stack.status();
      await this.execute(exp, stack, journal, active, options, log);
    } catch (err) {
      const e = asFaultlineError(err);
      const interrupted = options.signal.aborted || e.code === 'ABORTED';
      journal.status = interrupted ? 'interrupted' : 'error';
      journal.reason = interrupted ? 'interrupted; rollbacks ran' : `the run failed: ${e.message}`;
      journal.error = e.message;
      journal.errorCode = e.code;
    } finally {
      // Rollbacks always run, with fresh signals: an interrupt must never cancel a cleanup.
      await this.rollbacks(exp, stack, active, journal, log);
      journal.endedAt = iso();
      journal.durationMs = Date.now() - started;
    }
    return journal;
  }

  private async acquireStack(exp: Experiment, options: ExperimentRunOptions, log: (l: string) => void): Promise<AttachedStack> {
    const { stackFile, spec: _spec, ...cli } = options.stack ?? {};
    if (exp.stackSpec || stackFile) {
      // A described stack is not faultline's to start: attach, then wait until it is ready (or say why not).
      const stack = await attachStack({ ...cli, ...(exp.stackSpec ? { spec: exp.stackSpec } : { stackFile }) });
      await stack.waitReady({ timeoutMs: stack.spec.ready_timeout, signal: options.signal, log });
      return stack;
    }
    const overrides: Partial<StackOptions> = { ...cli, ...(exp.stack.project ? { project: exp.stack.project } : {}) };
    if (exp.stack.bring_up ?? true) return new ReferenceStack(overrides).up({ signal: options.signal, log });
    const stack = await attachStack(overrides);
    const containers = await stack.containers();
    if (!containers.length || !containers.every(isReady)) {
      throw new FaultlineError('STACK_FAILED', `stack ${stack.project} is not running and healthy (bring_up is false)`, { hint: 'faultline stack up' });
    }
    return stack;
  }

  private probeContext(stack: AttachedStack, extra: Partial<ProbeContext> = {}): ProbeContext {
    return { stack, docker: stack.docker, ...extra };
  }

  private async steadyState(
    exp: Experiment,
    stack: AttachedStack,
    phase: Phase,
    signal: AbortSignal,
    extra: Partial<ProbeContext> = {},
  ): Promise<{ met: boolean | null; activities: ActivityRecord[] }> {
    if (!exp.steady_state.length) return { met: null, activities: [] };
    const activities: ActivityRecord[] = [];
    for (const step of exp.steady_state)
      activities.push(await probeOnce(this.deps.probes.get(step.probe), step, phase, this.probeContext(stack, extra), signal));
    return { met: activities.every((a) => a.status === 'succeeded'), activities };
  }

  private async execute(
    exp: Experiment,
    stack: AttachedStack,
    journal: ExperimentJournal,
    active: Set<ActiveFault>,
    options: ExperimentRunOptions,
    log: (l: string) => void,
  ): Promise<void> {
    const { signal } = options;
    await checkReadbacks(stack, signal);
    log(`steady state before: ${exp.steady_state.length} probe(s)`);
    journal.steadyStateBefore = await this.steadyState(exp, stack, 'steady-state-before', signal);
    if (journal.steadyStateBefore.met === false) {
      journal.status = 'steady-state-failed';
      const failed = journal.steadyStateBefore.activities.filter((a) => a.status !== 'succeeded').map((a) => a.name);
      journal.reason = `the steady state did not hold before the method (${failed.join(', ')}), so no fault was injected`;
      return;
    }

    const job = await this.startLoad(exp, stack, options, log);
    journal.loadStartedAt = iso();
    const method = await runMethod(exp.method, job, {
      stack,
      faults: this.deps.faults,
      probe: (name) => this.deps.probes.get(name),
      active,
      signal,
      log,
      loadDurationMs: exp.load.duration,
    });
    journal.method = method.activities;
    journal.faultWindows = method.faultWindows;
    journal.load = loadResultToJSON(method.load);
    if (method.failure !== undefined) throw method.failure;
    signal.throwIfAborted();

    // The Jepsen set check, after faults are healed and the replica caught up.
    let dataLoss: Observation | null = null;
    if (method.load.ledger.records().length) {
      log('checking writes against the database (data-loss probe)');
      dataLoss = await this.tryProbe('data-loss', this.probeContext(stack, { ledger: method.load.ledger }), {}, signal);
    }
    const measured = measure({
      load: method.load,
      faultWindows: journal.faultWindows,
      warmupMs: exp.load.warmup,
      steadyStateBefore: journal.steadyStateBefore.activities,
      method: journal.method,
      dataLoss,
      probes: this.deps.probes.list(),
    });
    journal.findings = measured.findings;
    // After the run the probes know its load timeline: the QPS probe compares the client's count with monitoring's.
    journal.steadyStateAfter = await this.steadyState(exp, stack, 'steady-state-after', signal, { timeline: method.load.timeline });
    const capacityLost = webCapacityLost(journal.method, webServersOf(await stack.containers().catch(() => [])));
    const metrics = capacityLost === null ? measured.metrics : { ...measured.metrics, web_capacity_lost_ratio: capacityLost };
    journal.metrics = metrics;
    const v = verdict({ assertions: exp.assertions, metrics, method: journal.method, steadyStateAfterMet: journal.steadyStateAfter.met });
    journal.assertions = v.assertions;
    journal.status = v.status;
    journal.reason = v.reason;
  }

  /** Starts the experiment's load against the stack (seeding rows first when the mix reads by id). */
  private async startLoad(exp: Experiment, stack: AttachedStack, options: ExperimentRunOptions, log: (l: string) => void): Promise<LoadJob> {
    const l = exp.load;
    const workload = l.workload ?? stack.spec.workload;
    const requests = workloadRequests(workload);
    // The file's mix was parsed with it, its names are checked against the workload now. An experiment that names a
    // path (and no mix) GETs it, as before workloads existed; otherwise the workload's own mix.
    const mix = l.mix
      ? validateMix(l.mix, 'load.mix', Object.keys(requests))
      : l.path === undefined && workload?.mix !== undefined
        ? parseMix(workload.mix, 'workload.mix', Object.keys(requests))
        : undefined;
    const path = l.path ?? stack.spec.endpoint.ready_path;
    // With a mix, requests pick their own paths under the URL's path, so the URL is the stack's root.
    const url = mix ? `${stack.httpsUrl}/` : `${stack.httpsUrl}${path}`;
    log(
      `load: ${l.driver} ${l.rate !== undefined ? `${typeof l.rate === 'number' ? l.rate : `${l.rate.from}→${l.rate.to}`} req/s` : `${l.connections ?? 10} connections`} for ${l.duration / 1000} s against ${url}${mix ? ` (mix ${formatMix(mix)})` : ''}`,
    );
    const tls = endpointTls(url, stack.spec.endpoint, l.insecure ? undefined : await stack.ca());
    let seedIds: WriteId[] | undefined;
    if (mix) {
      const names = mix.map((e) => e.kind);
      // Reads by id need rows to read: a fresh stack has none until the run's first writes are acknowledged.
      if (names.some((n) => usesId(requests[n] as RequestSpec))) {
        const seeder = seedingWrite(requests, names);
        if (seeder) seedIds = await seedWrites(stack.httpsUrl, seeder, SEED_ITEMS, tls, options.signal);
        else log('load: the mix reads by ${id} but the workload has no write (without ${id}) to seed ids with; reads use ids 1..100');
      }
    }
    return startLoad(
      {
        url,
        ...(seedIds ? { seedIds } : {}),
        ...(l.rate !== undefined ? { rate: l.rate } : {}),
        ...(l.connections !== undefined ? { connections: l.connections } : {}),
        ...(mix ? { mix, ...(workload ? { workload } : {}) } : {}),
        durationMs: l.duration,
        bucketMs: l.bucket,
        ...(l.max_in_flight ? { maxInFlight: l.max_in_flight } : {}),
        ...(l.timeout ? { timeoutMs: l.timeout } : {}),
        ...tls,
      },
      { signal: options.signal, ...(options.onLoadEvent ? { onEvent: options.onLoadEvent } : {}) },
    );
  }

  private async tryProbe(name: string, ctx: ProbeContext, params: unknown, signal: AbortSignal): Promise<Observation | null> {
    try {
      return await runProbe(this.deps.probes.get(name), ctx, params, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      return null;
    }
  }

  private async rollbacks(
    exp: Experiment,
    stack: AttachedStack | undefined,
    active: Set<ActiveFault>,
    journal: ExperimentJournal,
    log: (l: string) => void,
  ): Promise<void> {
    if (!stack) return;
    const steps: RollbackStep[] = [{ action: 'revert-faults' }, ...exp.rollbacks.filter((r) => r.action !== 'revert-faults')];
    for (const step of steps) {
      const start = Date.now();
      const record: ActivityRecord = {
        kind: 'rollback',
        name: step.action,
        phase: 'rollback',
        status: 'succeeded',
        start: iso(start),
        end: '',
        target: step.target,
      };
      try {
        if (step.action === 'revert-faults') {
          record.output = await revertRunFaults(active, createFaultContext(stack, { log }), this.deps.faults);
        } else if (step.action === 'restart') {
          if (!step.target) throw new FaultlineError('INVALID_INPUT', 'rollbacks: restart needs a target');
          const c = (await stack.containers()).filter((x) => x.service === step.target || x.name === step.target);
          if (!c.length) throw new FaultlineError('UNKNOWN_TARGET', `no container ${step.target} in stack ${stack.project}`);
          for (const x of c) await stack.docker.restart(x.id, 5);
        } else if (step.action === 'wait-healthy') {
          await retryUntil(
            () => stack.containers(),
            (list) => list.filter((c) => !isHelper(c)).every(isReady),
            { timeoutMs: step.timeout ?? 60_000, intervalMs: 500, what: 'every container to be healthy' },
          );
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
