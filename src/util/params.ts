// The one parameter kit for faults and probes: zod fields that take a value as the command line gives it (a string)
// or as a file does (typed), and the one parse that names the owner and every bad field.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { zodProblems } from './zod.js';

/** "250ms", "30s", a bare number of seconds → milliseconds (the one duration field, shared with experiment files). */
export { durationField } from './zod.js';

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

/** A whole number in [min, max]; strings are read as numbers. */
export function integer(min: number, max: number) {
  return z.coerce.number({ invalid_type_error: 'must be a whole number' }).int('must be a whole number').min(min).max(max);
}

/** A percentage 0-100; "30%" and "30" both mean 30. */
export function percent(options: { min?: number } = {}) {
  return z
    .union([z.string(), z.number()])
    .transform((v) => (typeof v === 'string' ? Number(v.trim().replace(/%$/, '')) : v))
    .pipe(
      z
        .number({ invalid_type_error: 'must be a number' })
        .finite()
        .min(options.min ?? 0, 'must be at least 0%')
        .max(100, 'must be at most 100%'),
    );
}

/** "256M", "1G", "512k" → bytes, bounded so a typo cannot eat the machine. */
export function byteSize(maxBytes: number) {
  return z.string().transform((v, ctx) => {
    const m = /^\s*(\d+)\s*([kKmMgG])?[bB]?\s*$/.exec(v);
    const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
    const bytes = m ? Number(m[1]) * mult : NaN;
    if (!m || !Number.isFinite(bytes) || bytes <= 0 || bytes > maxBytes) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" must be a size like 256M, at most ${Math.round(maxBytes / 1024 ** 2)}M` });
      return z.NEVER;
    }
    return bytes;
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

/**
 * Validates parameters against their schema; one INVALID_INPUT error names `owner` (e.g. "net-loss", "probe qps") and
 * the field path of every problem: "net-loss: loss: must be at most 100%".
 */
export function parseParamsOf<T>(owner: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, input: unknown, hint?: string): T {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const parts = zodProblems(parsed.error, 'parameter').map((p) => `${p.path || 'params'}: ${p.message}`);
  throw new FaultlineError('INVALID_INPUT', `${owner}: ${parts.join('; ')}`, hint === undefined ? {} : { hint });
}

/** A schema's fields as `list` commands show them: the name, its default (name=default) and its description. */
export function describeParams(schema: z.ZodTypeAny): string[] {
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodTypeAny>) : {};
  return Object.entries(shape).map(([key, s]) => {
    const d = s instanceof z.ZodDefault ? (s._def.defaultValue as () => unknown)() : undefined;
    const desc = s.description ? ` ${s.description}` : '';
    return d === undefined ? `${key}${desc}` : `${key}=${String(d)}${desc}`;
  });
}
