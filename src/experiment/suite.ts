// Runs one experiment or a suite of them in order, and returns the journal to report on.

import { combineRepetitions, experimentsOf, suiteStatus, type ExperimentJournal, type Journal, type SuiteJournal } from './journal.js';
import { ExperimentRunner, type ExperimentRunOptions, type RunnerDeps } from './runner.js';
import type { Experiment, Suite } from './schema.js';

/** True when a run left a fault in effect (a rollback failed): the stack is damaged, nothing more may run on it. */
export function leftStackDamaged(j: ExperimentJournal): boolean {
  return j.rollbacks.some((r) => r.status !== 'succeeded');
}

/** How many times an experiment runs: --repeat, else the suite's repeat:, else its own, else once. */
export function repetitionsOf(exp: Pick<Experiment, 'repeat'>, suite: Pick<Suite, 'repeat'> | null, options: Pick<ExperimentRunOptions, 'repeat'>): number {
  return options.repeat ?? suite?.repeat ?? exp.repeat ?? 1;
}

/**
 * Runs an experiment, or a suite in order, each experiment as many times as it repeats. A repeated suite runs round by
 * round (every experiment once, then again), so a drift of the stack over the minutes spreads over every experiment
 * instead of landing on one; each experiment's journal holds its repetitions (journal.ts).
 */
export async function runFile(
  target: Experiment | Suite,
  deps: RunnerDeps,
  options: ExperimentRunOptions & { onExperimentDone?: (j: ExperimentJournal, index: number, total: number) => void },
  runner: Pick<ExperimentRunner, 'run'> = new ExperimentRunner(deps),
): Promise<Journal> {
  const suite = 'suite' in target ? target : null;
  const experiments = suite ? suite.experiments : [target as Experiment];
  const counts = experiments.map((e) => repetitionsOf(e, suite, options));
  const rounds = Math.max(...counts);
  const started = Date.now();
  const runs: ExperimentJournal[][] = experiments.map(() => []);
  let stop = false;
  for (let round = 0; round < rounds && !stop; round++) {
    for (const [i, exp] of experiments.entries()) {
      // A lone experiment always runs once (its runner records the interruption); a suite skips what it has not begun.
      if (options.signal.aborted && (suite || round > 0)) {
        stop = true;
        break;
      }
      if (round >= counts[i]!) continue;
      const rep = counts[i]! > 1 ? ` (repetition ${round + 1} of ${counts[i]})` : '';
      if (suite || rep) options.log?.(`${suite ? `[${i + 1}/${experiments.length}] ` : ''}${exp.id}: ${exp.title}${rep}`);
      const j = await runner.run(exp, options);
      runs[i]!.push(j);
      options.onExperimentDone?.(j, i, experiments.length);
      if (j.status === 'interrupted') stop = true;
      // continue_on_failure is about findings, never about a stack that a failed revert left damaged.
      else if (leftStackDamaged(j)) {
        options.log?.(`stopping ${suite ? 'the suite' : 'the repetitions'}: ${exp.id} could not revert its faults, the next run would be on a damaged stack`);
        stop = true;
      } else if (suite && j.status !== 'passed' && !suite.continue_on_failure) stop = true;
      if (stop) break;
    }
  }
  const journals = runs.filter((list) => list.length).map(combineRepetitions);
  if (!suite) return journals[0]!;
  const journal: SuiteJournal = {
    version: 1,
    kind: 'suite',
    id: suite.id,
    title: suite.title,
    description: suite.description,
    file: suite.file,
    status: suiteStatus(journals),
    startedAt: new Date(started).toISOString(),
    endedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    experiments: journals,
    ...(suite.report ? { report: suite.report } : {}),
  };
  return journal;
}

export { experimentsOf };
