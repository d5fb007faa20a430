// Latency by request kind in one run (pure): writes from the write ledger, reads as the timeline's whole-run
// histogram minus the writes. The compare report's latency section (the reference suite's "price of the fix").

import * as hdr from 'hdr-histogram-js';
import type { LoadResultJSON } from '../load/index.js';
import { Timeline } from '../load/timeline.js';

export interface LatencyFigures {
  /** Milliseconds. */
  p50: number | null;
  p99: number | null;
  count: number;
}

/** Microseconds, as the timeline's (histogram.ts), with counts that may go below zero. */
const floatHistogram = () =>
  hdr.build({ bitBucketSize: 64, useWebAssembly: false, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

function latencyFigures(h: hdr.Histogram, count: number): LatencyFigures {
  const at = (p: number) => (count > 0 ? Math.round(h.getValueAtPercentile(p)) / 1000 : null);
  return { p50: at(50), p99: at(99), count };
}

/**
 * Writes: the ledger's intended send → answer of each write the timeline's histogram holds (answered or timed out).
 * Reads: that histogram minus the writes. A float histogram takes the subtraction even where a write's latency,
 * rounded to µs in the ledger, lands one slot beside the timeline's copy.
 */
export function latencyByKind(load: LoadResultJSON): Record<'read' | 'write', LatencyFigures> {
  const [all, writes] = [floatHistogram(), floatHistogram()];
  const merged = Timeline.fromJSON(load.timeline).mergedHistogram();
  all.add(merged);
  merged.destroy();
  const total = all.totalCount;
  for (const w of load.ledger.writes) {
    if (w.completedMs === null || (w.status === null && w.error !== 'ETIMEDOUT')) continue;
    const us = Math.max(1, Math.round((w.completedMs - w.intendedMs) * 1000));
    writes.recordValue(us);
    all.recordValueWithCount(us, -1);
  }
  const result = { read: latencyFigures(all, total - writes.totalCount), write: latencyFigures(writes, writes.totalCount) };
  all.destroy();
  writes.destroy();
  return result;
}

export const LATENCY_NOTES = [
  'Latency from each request’s intended send time (paced load: corrected for coordinated omission; a timed-out request counts at its deadline), 3 significant digits.',
  'Writes: each write of the ledger, intended send → answer. Reads: every other request of the run (the timeline’s latency histogram minus the writes).',
];
