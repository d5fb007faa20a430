// Runs one experiment or a suite of them in order, and returns the journal to report on.

import { experimentsOf, suiteStatus, type ExperimentJournal, type Journal, type SuiteJournal } from './journal.js';
import { ExperimentRunner, type ExperimentRunOptions, type RunnerDeps } from './runner.js';
import type { Experiment, Suite } from './schema.js';

/** True when a run left a fault in effect (a rollback failed): the stack is damaged, nothing more may run on it. */
export function leftStackDamaged(j: ExperimentJournal): boolean {
  return j.rollbacks.some((r) => r.status !== 'succeeded');
}

export async function runFile(
  target: Experiment | Suite,
  deps: RunnerDeps,
  options: ExperimentRunOptions & { onExperimentDone?: (j: ExperimentJournal, index: number, total: number) => void },
  runner: Pick<ExperimentRunner, 'run'> = new ExperimentRunner(deps),
): Promise<Journal> {
  if (!('suite' in target)) {
    const j = await runner.run(target, options);
    options.onExperimentDone?.(j, 0, 1);
    return j;
  }
  const started = Date.now();
  const journals: ExperimentJournal[] = [];
  for (const [i, exp] of target.experiments.entries()) {
    if (options.signal.aborted) break;
    options.log?.(`[${i + 1}/${target.experiments.length}] ${exp.id}: ${exp.title}`);
    const j = await runner.run(exp, options);
    journals.push(j);
    options.onExperimentDone?.(j, i, target.experiments.length);
    if (j.status === 'interrupted') break;
    // continue_on_failure is about findings, never about a stack that a failed revert left damaged.
    if (leftStackDamaged(j)) {
      options.log?.(`stopping the suite: ${exp.id} could not revert its faults, the next experiment would run on a damaged stack`);
      break;
    }
    if (j.status !== 'passed' && !target.continue_on_failure) break;
  }
  const suite: SuiteJournal = {
    version: 1,
    kind: 'suite',
    id: target.id,
    title: target.title,
    description: target.description,
    file: target.file,
    status: suiteStatus(journals),
    startedAt: new Date(started).toISOString(),
    endedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    experiments: journals,
    ...(target.report ? { report: target.report } : {}),
  };
  return suite;
}

export { experimentsOf };
