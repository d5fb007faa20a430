// The runner: one experiment as a script of its phases, each in its own module: acquire the stack → steady state
// before (if it does not hold, nothing is injected) → the method under load → steady state after → judge →
// rollbacks, always (also after Ctrl-C or a failed step). Every activity lands in the journal; a failed activity is
// recorded, not thrown through the run.

import { asFaultlineError } from '../errors.js';
import type { ActiveFault } from '../faults/index.js';
import { Timeline } from '../load/index.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { acquireStack, targetOf } from './acquire.js';
import { iso } from './activities.js';
import { checkMethodBlastRadius } from './dry-run.js';
import { judgePhase } from './judge-phase.js';
import { methodPhase } from './method-phase.js';
import { rollbacks } from './rollbacks.js';
import type { Experiment } from './schema.js';
import { notHeldBefore, steadyState, steadyStateBefore } from './steady-state.js';
import { newJournal, type ExperimentJournal } from './journal.js';
import type { ExperimentRunOptions, RunnerDeps } from './run-options.js';

export type { ExperimentRunOptions, ProbeCatalogue, RunnerDeps } from './run-options.js';
export { revertRunFaults, settleAfterRollbacks } from './rollbacks.js';

export class ExperimentRunner {
  constructor(private readonly deps: RunnerDeps) {}

  async run(exp: Experiment, options: ExperimentRunOptions): Promise<ExperimentJournal> {
    const { signal } = options;
    const log = options.log ?? (() => undefined);
    const journal = newJournal({ id: exp.id, title: exp.title, description: exp.description, file: exp.file }, options.versions ?? {}, iso());
    const started = Date.now();
    const active = new Set<ActiveFault>();
    let stack: AttachedStack | undefined;
    try {
      stack = await acquireStack(exp, options, log);
      const target = await targetOf(stack);
      journal.stack = target.status;
      // The blast radius, before anything runs: a fault step over max_targets is refused now (exit 2), and at inject.
      const deps = { ...this.deps, faults: this.deps.faults.limitedTo(exp.max_targets) };
      await checkMethodBlastRadius(exp, stack, deps.faults, signal);

      journal.steadyStateBefore = await steadyStateBefore(exp, stack, this.deps.probes, signal, log, () => target.tls(true));
      if (journal.steadyStateBefore.met === false) {
        Object.assign(journal, notHeldBefore(journal.steadyStateBefore));
        return journal;
      }

      const { load, measured } = await methodPhase(exp, target, deps, active, journal, options, log);
      // After the run the probes know its load timeline: the QPS probe compares the client's count with monitoring's.
      journal.steadyStateAfter = await steadyState(exp, stack, this.deps.probes, 'steady-state-after', signal, { timeline: load.timeline });
      await judgePhase(exp, stack, journal, measured);
    } catch (err) {
      const e = asFaultlineError(err);
      const interrupted = signal.aborted || e.code === 'ABORTED';
      journal.status = interrupted ? 'interrupted' : 'error';
      journal.reason = interrupted ? 'interrupted; rollbacks ran' : `the run failed: ${e.message}`;
      journal.error = e.message;
      journal.errorCode = e.code;
    } finally {
      // Rollbacks always run, with fresh signals: an interrupt must never cancel a cleanup.
      await rollbacks(exp, stack, active, journal, this.deps.faults, log);
      journal.endedAt = iso();
      journal.durationMs = Date.now() - started;
    }
    return journal;
  }
}

/** Re-hydrates the live objects of a journal's load, for reporters that need them. */
export function timelineOf(journal: ExperimentJournal): Timeline | null {
  return journal.load ? Timeline.fromJSON(journal.load.timeline) : null;
}
