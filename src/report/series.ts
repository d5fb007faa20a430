// Per-second series for charts and summaries, taken from the journal's timeline (pure).

import { Timeline } from '../load/timeline.js';
import type { ExperimentJournal } from '../experiment/journal.js';

export interface Series {
  /** Seconds from the start of load (0, 1, 2 …). */
  t: number[];
  /** Requests sent per second. */
  rps: number[];
  /** Failed requests per second: connection errors plus non-2xx/3xx answers. */
  errors: number[];
  /** p99 latency in ms per second; null where nothing completed. */
  p99: Array<number | null>;
  /** Success ratio per second (0..1); null where nothing completed. */
  success: Array<number | null>;
}

export function seriesOf(j: ExperimentJournal): Series {
  const empty: Series = { t: [], rps: [], errors: [], p99: [], success: [] };
  if (!j.load) return empty;
  const timeline = Timeline.fromJSON(j.load.timeline);
  const seconds = timeline.perSecond();
  for (const [i, w] of seconds.entries()) {
    empty.t.push(i);
    empty.rps.push(Math.round((w.sent * 1000) / Math.max(1, w.endMs - w.startMs)));
    // Failed intended requests: failed statuses, errors (timed out among them) and dropped ones.
    empty.errors.push(w.outcomes - w.successes);
    empty.p99.push(w.latency.p99 === null ? null : Math.round(w.latency.p99 * 10) / 10);
    empty.success.push(w.successRatio);
  }
  return empty;
}
