// Small formatters the probes' renderers share (pure): a ratio as a percentage, milliseconds as a duration.

import { formatDuration } from '../util/duration.js';

export const pct = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`);
export const ms = (x: number | null | undefined) => (x === null || x === undefined ? '–' : formatDuration(x));
