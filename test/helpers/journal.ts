// A minimal experiment journal with the given metrics, for the reports' pure tests.

import { newJournal } from '../../src/experiment/journal.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import type { Metrics } from '../../src/metric-table.js';

export function journal(id: string, metrics: Metrics, status: ExperimentJournal['status'] = 'passed'): ExperimentJournal {
  const j = newJournal({ id, title: id, description: '', file: `${id}.yaml` }, {}, new Date(0).toISOString());
  return { ...j, status, metrics };
}
