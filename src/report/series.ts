// Per-second series for charts and summaries, taken from the timeline's per-second view and the write ledger (pure).
// Every report draws from here: report.html's req/s, errors and p99, the compare report's shares per second.

import { Timeline } from '../load/timeline.js';
import type { LoadResultJSON } from '../load/index.js';
import type { ExperimentJournal } from '../experiment/journal.js';
import type { ChartSeries } from '../experiment/suite-report.js';

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

/** One second of load (one window of the timeline's per-second view), with the ledger's writes of that second. */
export interface Second {
  /** Seconds from the start of load. */
  t: number;
  sent: number;
  rps: number;
  outcomes: number;
  successes: number;
  p99: number | null;
  /** Writes intended in this second, those that got an answer or a definite error, those acknowledged. */
  writes: number;
  writesDone: number;
  writesOk: number;
}

/** Per-second windows of a load (by intended send time); writes past the last window count in it. */
export function secondsOf(load: LoadResultJSON): Second[] {
  const windows = Timeline.fromJSON(load.timeline).perSecond();
  const out: Second[] = windows.map((w) => ({
    t: w.startMs / 1000,
    sent: w.sent,
    rps: Math.round((w.sent * 1000) / Math.max(1, w.endMs - w.startMs)),
    outcomes: w.outcomes,
    successes: w.successes,
    p99: w.latency.p99 === null ? null : Math.round(w.latency.p99 * 10) / 10,
    writes: 0,
    writesDone: 0,
    writesOk: 0,
  }));
  const width = windows[0] ? windows[0].endMs - windows[0].startMs : 1000;
  for (const w of load.ledger.writes) {
    const s = out[Math.min(out.length - 1, Math.max(0, Math.floor(w.intendedMs / width)))];
    if (!s) break;
    s.writes += 1;
    if (w.completedMs !== null) s.writesDone += 1;
    if (w.outcome === 'ok') s.writesOk += 1;
  }
  return out;
}

export function seriesOf(j: ExperimentJournal): Series {
  const series: Series = { t: [], rps: [], errors: [], p99: [], success: [] };
  for (const [i, s] of (j.load ? secondsOf(j.load) : []).entries()) {
    series.t.push(i);
    series.rps.push(s.rps);
    // Failed intended requests: failed statuses, errors (timed out among them) and dropped ones.
    series.errors.push(s.outcomes - s.successes);
    series.p99.push(s.p99);
    series.success.push(s.outcomes === 0 ? null : s.successes / s.outcomes);
  }
  return series;
}

export interface SeriesKind {
  label: string;
  unit: 'ratio' | 'count' | 'ms';
  of: (s: Second) => number | null;
}

/** The series a compare report's section may chart, by the name a suite's `chart:` gives. */
export const CHART_SERIES_KINDS: Record<ChartSeries, SeriesKind> = {
  success: { label: 'requests answered, share of the requests sent each second', unit: 'ratio', of: (s) => (s.outcomes ? s.successes / s.outcomes : null) },
  writes_acknowledged: {
    label: 'writes acknowledged, share of the writes sent each second',
    unit: 'ratio',
    of: (s) => (s.writes ? s.writesOk / s.writes : null),
  },
  // Reads are all requests minus the ledger's writes, as read_error_ratio_during_faults counts them.
  reads_answered: {
    label: 'reads answered, share of the reads sent each second',
    unit: 'ratio',
    of: (s) => {
      const reads = s.outcomes - s.writesDone;
      return reads > 0 ? Math.max(0, s.successes - s.writesOk) / reads : null;
    },
  },
  rps: { label: 'requests per second', unit: 'count', of: (s) => s.rps },
  errors: { label: 'failed requests per second', unit: 'count', of: (s) => s.outcomes - s.successes },
  p99: { label: 'p99 latency per second (ms, from intended send time)', unit: 'ms', of: (s) => s.p99 },
};
