// The method phase: the experiment's load started, the method on its schedule while it runs (scheduler.ts), both
// recorded in the journal; then, once the faults are healed, the data-loss check and what the run measured.

import type { ActiveFault } from '../faults/index.js';
import { loadResultToJSON, type LoadResult } from '../load/index.js';
import { runProbe } from '../probes/runner.js';
import type { Observation, ProbeContext } from '../probes/types.js';
import { iso } from './activities.js';
import type { RunTarget } from './acquire.js';
import { measure, type Measured } from './judge.js';
import { startExperimentLoad } from './load-start.js';
import { runMethod } from './scheduler.js';
import type { Experiment, FaultStep, ProbeStep } from './schema.js';
import { runExecSteps } from './exec-action.js';
import type { ExecStep } from './exec-schema.js';
import { probeContext } from './steady-state.js';
import type { ExperimentJournal } from './journal.js';
import type { ExperimentRunOptions, Log, RunnerDeps } from './run-options.js';

/**
 * Runs the method under load and records it (activities, fault windows, load, a stop condition that fired) in the
 * journal; a stop still leaves the data-loss check and the measures to run. A revert that failed
 * is thrown once everything is recorded, as is an interrupt; the rollbacks are the caller's.
 */
export async function methodPhase(
  exp: Experiment,
  target: RunTarget,
  deps: RunnerDeps,
  active: Set<ActiveFault>,
  journal: ExperimentJournal,
  options: Pick<ExperimentRunOptions, 'signal' | 'onLoadEvent' | 'onLoadStart' | 'stack'>,
  log: Log,
): Promise<{ load: LoadResult; measured: Measured }> {
  const { signal } = options;
  const { stack } = target;
  const job = await startExperimentLoad(exp, target, options, log);
  journal.loadStartedAt = iso();
  // Exec actions keep their own schedule beside the scheduler's faults and probes; they hold nothing to revert.
  const actions = runExecSteps(exp.method.filter(isExecStep), job, { stack, signal, maxTargets: exp.max_targets, log });
  const method = await runMethod(exp.method.filter(isScheduled), job, {
    stack,
    faults: deps.faults,
    probe: (name) => deps.probes.get(name),
    active,
    signal,
    log,
    loadDurationMs: exp.load.duration,
    endAfterFaultsMs: exp.load.end_after_faults,
    stopWhen: exp.stop_when,
  });
  journal.method = [...method.activities, ...(await actions)].sort((a, b) => (a.startMs ?? 0) - (b.startMs ?? 0));
  journal.faultWindows = method.faultWindows;
  journal.load = loadResultToJSON(method.load);
  if (method.stop) journal.stop = method.stop;
  if (method.failure !== undefined) throw method.failure;
  signal.throwIfAborted();

  // The Jepsen set check, after faults are healed and the replica caught up.
  let dataLoss: Observation | null = null;
  if (method.load.ledger.records().length) {
    log('checking writes against the database (data-loss probe)');
    dataLoss = await tryProbe(deps, 'data-loss', probeContext(stack, { ledger: method.load.ledger }), signal);
  }
  const measured = measure({
    load: method.load,
    faultWindows: journal.faultWindows,
    warmupMs: exp.load.warmup,
    steadyStateBefore: journal.steadyStateBefore.activities,
    method: journal.method,
    dataLoss,
    probes: deps.probes.list(),
  });
  journal.findings = measured.findings;
  return { load: method.load, measured };
}

const isExecStep = (s: FaultStep | ProbeStep | ExecStep): s is ExecStep => 'action' in s;
const isScheduled = (s: FaultStep | ProbeStep | ExecStep): s is FaultStep | ProbeStep => !isExecStep(s);

/** One look that may fail: null when the probe could not look (an interrupt still ends the run). */
async function tryProbe(deps: RunnerDeps, name: string, ctx: ProbeContext, signal: AbortSignal): Promise<Observation | null> {
  try {
    return await runProbe(deps.probes.get(name), ctx, {}, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    return null;
  }
}
