// Durations as people write them ("30s", "1.5m", "250ms") to milliseconds, and back.

/** The longest a fault may be held, from a file or the command line. */
export const MAX_HOLD_MS = 24 * 3_600_000;

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "250ms", "30s", "2m", "1h" or a bare number of seconds; returns null when malformed. */
export function parseDurationMs(input: string | number): number | null {
  // Whole milliseconds, as from a string: a fractional one (0.0015 s) was kept and failed deep inside a fault.
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
  if (!m) return null;
  const value = Number(m[1]);
  const unit = units[m[2] ?? 's'] ?? 1000;
  return Math.round(value * unit);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}
