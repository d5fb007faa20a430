// A minimal experiment journal with the given metrics, for the reports' pure tests.

import { newJournal } from '../../src/experiment/journal.js';
import type { ExperimentJournal, SuiteJournal } from '../../src/experiment/journal.js';
import type { Metrics } from '../../src/metric-table.js';

export function journal(id: string, metrics: Metrics, status: ExperimentJournal['status'] = 'passed'): ExperimentJournal {
  const j = newJournal({ id, title: id, description: '', file: `${id}.yaml` }, {}, new Date(0).toISOString());
  return { ...j, status, metrics };
}

/** The suite journal of experiments/before-after.yaml run once, holding the given experiments (ten minutes long). */
export function beforeAfterSuite(title: string, experiments: ExperimentJournal[]): SuiteJournal {
  return {
    version: 1,
    kind: 'suite',
    id: 'before-after',
    title,
    description: '',
    file: 'experiments/before-after.yaml',
    status: 'passed',
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:10:00.000Z',
    durationMs: 600_000,
    experiments,
  };
}
