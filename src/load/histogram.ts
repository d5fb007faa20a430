// Latency histograms: HdrHistogram (pure-JS build) in microseconds, encoded to compressed base64 for the journal.
// A cell keeps a live histogram while values may still arrive and only its encoding afterwards, to bound memory.

import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary } from './types.js';

/** One hour in µs: anything slower is clamped, since a request never waits that long (timeouts are shorter). */
export const MAX_TRACKABLE_US = 3_600_000_000;

export function newHistogram(): Histogram {
  // 32-bit counts with auto-resize: a few KB for fast responses, growing only if slow ones are recorded.
  // (The packed variant is ~20x slower to merge, which matters for per-second roll-ups.)
  return hdr.build({
    bitBucketSize: 32,
    useWebAssembly: false,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2048,
    numberOfSignificantValueDigits: 3,
  });
}

export function clampUs(us: number): number {
  if (!(us >= 1)) return 1;
  return us > MAX_TRACKABLE_US ? MAX_TRACKABLE_US : Math.round(us);
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** Percentile summary in milliseconds, from a histogram in µs. */
export function summarizeHistogram(h: Histogram | null): LatencySummary {
  if (!h || h.totalCount === 0) {
    return { count: 0, min: null, mean: null, p50: null, p90: null, p99: null, p999: null, max: null };
  }
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** A histogram slot that is either live (recording) or sealed (encoded only). */
export class HistogramCell {
  private live: Histogram | null = null;
  private encoded: string | null = null;
  private n = 0;

  static fromEncoded(encoded: string, count: number): HistogramCell {
    const cell = new HistogramCell();
    cell.encoded = encoded;
    cell.n = count;
    return cell;
  }

  get count(): number {
    return this.n;
  }

  record(us: number): void {
    this.ensureLive().recordValue(clampUs(us));
    this.n += 1;
  }

  /** The live histogram, re-opened from the encoding when sealed. */
  private ensureLive(): Histogram {
    if (!this.live) {
      this.live = newHistogram();
      // A decoded histogram cannot auto-resize, so a late value goes into a fresh one with the old values added.
      if (this.encoded) {
        const old = decodeHistogram(this.encoded);
        this.live.add(old);
        old.destroy();
      }
    }
    this.encoded = null;
    return this.live;
  }

  /** Encode and free the live histogram; a late value simply re-opens it. */
  seal(): void {
    if (!this.live) return;
    this.encoded = this.n > 0 ? encodeHistogram(this.live) : null;
    this.live.destroy();
    this.live = null;
  }

  /** Adds this cell's values into `into` without keeping a decoded copy. */
  addTo(into: Histogram): void {
    if (this.n === 0) return;
    if (this.live) {
      into.add(this.live);
    } else if (this.encoded) {
      const h = decodeHistogram(this.encoded);
      into.add(h);
      h.destroy();
    }
  }

  /** Adds another cell's values into this one (merging timelines of worker threads). */
  absorb(other: HistogramCell): void {
    if (other.count === 0) return;
    other.addTo(this.ensureLive());
    this.n += other.count;
  }

  /** A histogram to query: the live one, or a fresh decode (caller must not keep it across records). */
  view(): Histogram | null {
    if (this.n === 0) return null;
    if (this.live) return this.live;
    return this.encoded ? decodeHistogram(this.encoded) : null;
  }

  toEncoded(): string | null {
    if (this.n === 0) return null;
    if (this.live) return encodeHistogram(this.live);
    return this.encoded;
  }
}
