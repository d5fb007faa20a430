// Parsing at the edge with zod: the one duration field, and the one conversion from zod issues to problems
// that name the field path, shared by experiment files, probe parameters and fault parameters.

import { z } from 'zod';
import type { Problem } from '../errors.js';
import { parseDurationMs } from './duration.js';
import { suggestion } from './suggest.js';

/** "250ms", "30s", "2m", a bare number of seconds → milliseconds; negative, malformed or out-of-range values are refused. */
export function durationField(options: { min?: number; max?: number } = {}) {
  const min = options.min ?? 0;
  const max = options.max ?? 24 * 3_600_000;
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (ms === null) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} is not a duration (e.g. 250ms, 30s, 5m; not negative)` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${v} is out of range (${min} ms to ${max} ms)` });
      return z.NEVER;
    }
    return ms;
  });
}

export type { Problem } from '../errors.js';

export function pathOf(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/**
 * Every issue of a zod error as a problem, in the words people read: "required (number)", "unknown field
 * "x"", the nearest name for a value outside an enum. `keys` says what unknown keys are (fields of a file, or
 * parameters of a fault or probe).
 */
export function zodProblems(err: z.ZodError, keys: 'field' | 'parameter' = 'field'): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const issue of err.issues) {
    for (const p of issueProblems(issue, keys)) {
      const key = `${p.path}\0${p.message}`;
      if (!seen.has(key)) out.push(p);
      seen.add(key);
    }
  }
  return out;
}

function issueProblems(issue: z.ZodIssue, keys: 'field' | 'parameter'): Problem[] {
  const path = pathOf(issue.path);
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      return [{ path, message: issue.received === 'undefined' ? `required (${issue.expected})` : `expected ${issue.expected}, got ${issue.received}` }];
    case z.ZodIssueCode.unrecognized_keys:
      return [
        {
          path,
          message:
            keys === 'field'
              ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
              : `unknown parameter(s) ${issue.keys.join(', ')}`,
        },
      ];
    case z.ZodIssueCode.invalid_enum_value: {
      const options = issue.options.map(String);
      const near = suggestion(String(issue.received), options);
      return [{ path, message: `unknown ${JSON.stringify(issue.received)}${near ? `; did you mean ${near}?` : ` (one of ${options.join(', ')})`}` }];
    }
    case z.ZodIssueCode.invalid_union: {
      // Report the branch that got furthest, which names the real problem ("method[0].for: ...").
      const branches = issue.unionErrors.map((e) => e.issues);
      const depth = (list: z.ZodIssue[]) => Math.max(...list.map((i) => i.path.length));
      const deepest = branches.filter((b) => b.length).sort((a, b) => depth(b) - depth(a))[0];
      if (deepest && depth(deepest) > issue.path.length) return deepest.filter((i) => i.path.length === depth(deepest)).flatMap((i) => issueProblems(i, keys));
      return [{ path, message: issue.message }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}
