// A minimal experiment journal with the given metrics, for the reports' pure tests.

import type { ExperimentJournal } from '../../src/experiment/journal.js';
import type { Metrics } from '../../src/metric-table.js';

export function journal(id: string, metrics: Metrics, status: ExperimentJournal['status'] = 'passed'): ExperimentJournal {
  const now = new Date(0).toISOString();
  return {
    version: 1,
    kind: 'experiment',
    id,
    title: id,
    description: '',
    file: `${id}.yaml`,
    status,
    reason: '',
    startedAt: now,
    endedAt: now,
    durationMs: 0,
    versions: {},
    stack: null,
    steadyStateBefore: { met: null, activities: [] },
    method: [],
    steadyStateAfter: { met: null, activities: [] },
    rollbacks: [],
    faultWindows: [],
    loadStartedAt: null,
    load: null,
    metrics,
    findings: {},
    assertions: [],
  };
}
