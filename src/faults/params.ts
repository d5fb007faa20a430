// Parameter parsing at the edge: zod schemas for what faults take (durations, percentages, ports, sizes),
// and the INVALID_INPUT error that names each field (through the shared zod-issue conversion).

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { zodProblems } from '../util/zod.js';

/** "250ms", "2s", a bare number of seconds → milliseconds: the one duration field, under the name the faults use. */
export { durationField as durationMs } from '../util/zod.js';

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

export function integer(min: number, max: number) {
  return z.coerce.number({ invalid_type_error: 'must be a whole number' }).int('must be a whole number').min(min).max(max);
}

/** "256M", "1G", "512k" → the string stress-ng understands, bounded so a typo cannot eat the machine. */
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

/** Turns zod's issues into one INVALID_INPUT error naming each field ("net-loss: loss: must be at most 100%"). */
export function parseParams<T>(fault: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const parts = zodProblems(result.error, 'parameter').map((p) => `${p.path || 'params'}: ${p.message}`);
  return fail(fault, parts);
}

function fail(fault: string, parts: string[]): never {
  throw new FaultlineError('INVALID_INPUT', `${fault}: ${parts.join('; ')}`, { hint: `see \`faultline fault list\` for ${fault}'s parameters` });
}

/** Describes a schema's fields for `fault list` (name and whether it has a default). */
export function describeParams(schema: z.ZodTypeAny): string[] {
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodTypeAny>) : {};
  return Object.entries(shape).map(([key, s]) => {
    const d = s instanceof z.ZodDefault ? (s._def.defaultValue as () => unknown)() : undefined;
    const desc = s.description ? ` ${s.description}` : '';
    return d === undefined ? `${key}${desc}` : `${key}=${String(d)}${desc}`;
  });
}
