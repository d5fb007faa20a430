// Tolerances, chaostoolkit style: matched by their type (boolean, number range, regex, ≤ / ≥). Pure.

import { z } from 'zod';

export type Tolerance =
  | { type: 'boolean'; expect: boolean }
  | { type: 'range'; min: number; max: number }
  | { type: 'regex'; pattern: string; flags?: string }
  | { type: 'atMost'; max: number }
  | { type: 'atLeast'; min: number };

export const toleranceSchema: z.ZodType<Tolerance, z.ZodTypeDef, unknown> = z.union([
  z.object({ type: z.literal('boolean'), expect: z.boolean() }),
  z
    .object({ type: z.literal('range'), min: z.number(), max: z.number() })
    .refine((t) => t.min <= t.max, { message: 'min must not be above max', path: ['min'] }),
  z.object({
    type: z.literal('regex'),
    pattern: z.string().min(1),
    flags: z
      .string()
      .regex(/^[imsu]*$/)
      .optional(),
  }),
  z.object({ type: z.literal('atMost'), max: z.number() }),
  z.object({ type: z.literal('atLeast'), min: z.number() }),
]);

/**
 * Shorthands as people write them: true/false, [min, max], "/re/", "<= 2", ">= 0.99", or a plain number
 * (equal to it). Returns null when the text is none of these.
 */
export function parseTolerance(input: unknown): Tolerance | null {
  if (typeof input === 'boolean') return { type: 'boolean', expect: input };
  if (typeof input === 'number' && Number.isFinite(input)) return { type: 'range', min: input, max: input };
  if (Array.isArray(input) && input.length === 2 && input.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    const [min, max] = input as [number, number];
    return min <= max ? { type: 'range', min, max } : null;
  }
  if (typeof input === 'object' && input !== null) {
    const parsed = toleranceSchema.safeParse(input);
    if (parsed.success) return compiles(parsed.data) ? parsed.data : null;
    return shorthandObject(input as Record<string, unknown>);
  }
  if (typeof input !== 'string') return null;
  const s = input.trim();
  if (s === 'true' || s === 'false') return { type: 'boolean', expect: s === 'true' };
  const re = /^\/(.+)\/([imsu]*)$/.exec(s);
  if (re) return regexTolerance(re[1]!, re[2]);
  const cmp = /^(<=|≤|>=|≥)\s*(-?\d+(?:\.\d+)?)$/.exec(s);
  if (cmp) return cmp[1] === '<=' || cmp[1] === '≤' ? { type: 'atMost', max: Number(cmp[2]) } : { type: 'atLeast', min: Number(cmp[2]) };
  const range = /^\[?\s*(-?\d+(?:\.\d+)?)\s*(?:,|\.\.)\s*(-?\d+(?:\.\d+)?)\s*\]?$/.exec(s);
  if (range && Number(range[1]) <= Number(range[2])) return { type: 'range', min: Number(range[1]), max: Number(range[2]) };
  if (/^-?\d+(?:\.\d+)?$/.test(s)) return { type: 'range', min: Number(s), max: Number(s) };
  return null;
}

/** A regex tolerance, or null when the pattern does not compile (found when the file is validated, not mid-run). */
function regexTolerance(pattern: string, flags: string | undefined): Tolerance | null {
  const t: Tolerance = { type: 'regex', pattern, ...(flags ? { flags } : {}) };
  return compiles(t) ? t : null;
}

function compiles(t: Tolerance): boolean {
  if (t.type !== 'regex') return true;
  try {
    new RegExp(t.pattern, t.flags);
    return true;
  } catch {
    return false;
  }
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The object shorthands an experiment file may write: {range: [a, b]}, {regex}, {'<=': n}, {'>=': n}, {equals}. */
function shorthandObject(o: Record<string, unknown>): Tolerance | null {
  const keys = Object.keys(o);
  if (keys.length !== 1) return null;
  const v = o[keys[0]!];
  switch (keys[0]) {
    case 'range':
      return parseTolerance(v);
    case 'regex':
      return typeof v === 'string' && v.length ? regexTolerance(v, undefined) : null;
    case '<=':
      return finite(v) ? { type: 'atMost', max: v } : null;
    case '>=':
      return finite(v) ? { type: 'atLeast', min: v } : null;
    case 'equals':
      if (typeof v === 'boolean' || finite(v)) return parseTolerance(v);
      return typeof v === 'string' ? regexTolerance(`^${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, undefined) : null;
    default:
      return null;
  }
}

/** Whether a value is within the tolerance. A value of the wrong type never matches (it is not coerced). */
export function withinTolerance(value: unknown, t: Tolerance): boolean {
  switch (t.type) {
    case 'boolean':
      return typeof value === 'boolean' && value === t.expect;
    case 'range':
      return typeof value === 'number' && Number.isFinite(value) && value >= t.min && value <= t.max;
    case 'atMost':
      return typeof value === 'number' && Number.isFinite(value) && value <= t.max;
    case 'atLeast':
      return typeof value === 'number' && Number.isFinite(value) && value >= t.min;
    case 'regex':
      return typeof value === 'string' && new RegExp(t.pattern, t.flags).test(value);
  }
}

export function describeTolerance(t: Tolerance): string {
  switch (t.type) {
    case 'boolean':
      return `is ${t.expect}`;
    case 'range':
      return t.min === t.max ? `= ${t.min}` : `in [${t.min}, ${t.max}]`;
    case 'atMost':
      return `≤ ${t.max}`;
    case 'atLeast':
      return `≥ ${t.min}`;
    case 'regex':
      return `matches /${t.pattern}/${t.flags ?? ''}`;
  }
}

/** A zod field for a tolerance in any of its shorthands. */
export const toleranceField = z.unknown().transform((v, ctx) => {
  const t = parseTolerance(v);
  if (!t) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} is not a tolerance (true/false, [min, max], "<= n", ">= n" or "/regex/")` });
    return z.NEVER;
  }
  return t;
});
