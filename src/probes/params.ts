// Parameter parsing at the edge for probes: zod fields that accept CLI strings or typed values, and the
// INVALID_INPUT error naming the probe and the field (through the shared zod-issue conversion).

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { zodProblems } from '../util/zod.js';

/** "250ms", "30s", a bare number of seconds → milliseconds (the one duration field, shared with faults and experiment files). */
export { durationField } from '../util/zod.js';

/** A number that may arrive as a string from the CLI. */
export function numberField(options: { min?: number; max?: number; int?: boolean } = {}) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v.trim().replace(/%$/, ''));
    const bad = (message: string) => {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
      return z.NEVER;
    };
    if (!Number.isFinite(n)) return bad(`${JSON.stringify(v)} is not a number`);
    if (options.int && !Number.isInteger(n)) return bad(`${n} is not a whole number`);
    if (options.min !== undefined && n < options.min) return bad(`${n} is below ${options.min}`);
    if (options.max !== undefined && n > options.max) return bad(`${n} is above ${options.max}`);
    return n;
  });
}

/** A boolean that may arrive as "true"/"false"/"yes"/"no" from the CLI. */
export const booleanField = z
  .union([z.boolean(), z.enum(['true', 'false', 'yes', 'no', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === 'yes' || v === '1');

/** A comma-separated list of TCP ports, or an array of them. */
export const portListField = z.union([z.string(), z.array(z.number())]).transform((v, ctx) => {
  const parts =
    typeof v === 'string'
      ? v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)
          .map(Number)
      : v;
  const bad = parts.find((p) => !Number.isInteger(p) || p < 1 || p > 65535);
  if (bad !== undefined || parts.length === 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} must be a list of TCP ports (1-65535)` });
    return z.NEVER;
  }
  if (parts.length > 64) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `at most 64 ports (a bounded list, never a sweep), got ${parts.length}` });
    return z.NEVER;
  }
  return [...new Set(parts)].sort((a, b) => a - b);
});

/** Validates a probe's parameters; the error names the probe and the field path of every problem. */
export function parseProbeParams<P>(probe: string, schema: z.ZodType<P, z.ZodTypeDef, unknown>, input: unknown): P {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const parts = zodProblems(parsed.error, 'parameter').map((p) => `${p.path || 'params'}: ${p.message}`);
  throw new FaultlineError('INVALID_INPUT', `probe ${probe}: ${parts.join('; ')}`);
}
