// Where a run's live metrics went (`--out prometheus`), as the reports and the bundle say it: which Prometheus, which
// run id to query, and a PromQL example that reads the run back (pure).

import type { ExperimentJournal } from '../experiment/journal.js';

const WRITE_PATH = /\/api\/v1\/write\/?$/;

/** One line per receiver, e.g. Live metrics: series labelled run="r1" in http://10.213.7.5:9090 — sum_over_time(…). */
export function liveMetricsLines(j: Pick<ExperimentJournal, 'id' | 'load' | 'outputs'>): string[] {
  const run = j.load?.runId;
  if (!run || !j.outputs?.length) return [];
  return j.outputs.map((o) => {
    const base = o.url.replace(WRITE_PATH, '');
    const where = base === o.url ? o.url : `${base} (remote-write ${o.url})`;
    return `Live metrics: series labelled run="${run}", experiment="${j.id}" in ${where}; e.g. sum by (outcome) (sum_over_time(faultline_requests{run="${run}"}[1h]))`;
  });
}
