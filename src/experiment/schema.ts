// Experiment and suite files: the YAML a user writes, validated whole before anything runs. Errors name the
// file, the field path and what was expected; the runner only ever sees the typed Experiment.

import { readFile } from 'node:fs/promises';
import { dirname, resolve, basename } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { parseDurationMs } from '../util/duration.js';
import { substituteEnv } from './env.js';

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === null) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a duration such as "30s", "250ms" or "2m", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

const name = z.string().min(1).regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase name such as "db-primary-kill"');
const params = z.record(z.unknown()).default({});

export const METRICS = [
  'availability',
  'error_ratio',
  'error_ratio_outside_faults',
  'p99_ms',
  'p99_ms_outside_faults',
  'time_to_detect_s',
  'time_to_recover_s',
  'write_outage_s',
  'write_error_ratio',
  'read_error_ratio_during_faults',
  'lost_writes',
  'unexpected_writes',
  'exposure_holes',
  'tls_grade',
  'replication_lag_s',
] as const;
export type Metric = (typeof METRICS)[number];

export const GRADES = ['A+', 'A', 'A-', 'B', 'C', 'D', 'E', 'F', 'T'] as const;

const tolerance = z.union([
  z.boolean(),
  z.number(),
  z.string(),
  z.array(z.number()).length(2),
  z.object({ range: z.tuple([z.number(), z.number()]) }).strict(),
  z.object({ regex: z.string() }).strict(),
  z.object({ '<=': z.number() }).strict(),
  z.object({ '>=': z.number() }).strict(),
  z.object({ '<': z.number() }).strict(),
  z.object({ '>': z.number() }).strict(),
  z.object({ equals: z.union([z.number(), z.string(), z.boolean()]) }).strict(),
]);
export type ToleranceSpec = z.infer<typeof tolerance>;

const probeActivity = z
  .object({
    probe: name,
    params,
    tolerance: tolerance.optional(),
    /** Once at this offset from the start of load. */
    at: duration.optional(),
    /** Continuously, on this interval, while load runs. */
    every: duration.optional(),
    /** Once, as soon as the named fault of the method is in effect (its inject has completed). */
    during: name.optional(),
    title: z.string().optional(),
  })
  .strict()
  .refine((p) => [p.at, p.every, p.during].filter((x) => x !== undefined).length <= 1, { message: 'give one of "at", "every" or "during", not several' });

const faultActivity = z
  .object({
    fault: name,
    target: z.string().min(1).optional(),
    params,
    at: duration.default('0s'),
    for: duration.optional(),
    title: z.string().optional(),
  })
  .strict();

const methodEntry = z.union([faultActivity, probeActivity], {
  errorMap: () => ({ message: 'expected a fault activity ({fault, at, for}) or a probe activity ({probe, at|every|during})' }),
});

const rollbackEntry = z
  .object({
    action: z.enum(['revert-faults', 'restart', 'wait-healthy']),
    target: z.string().optional(),
    timeout: duration.optional(),
  })
  .strict();

const assertion = z
  .object({
    metric: z.enum(METRICS),
    name: z.string().optional(),
    max: z.union([z.number(), z.string()]).optional(),
    min: z.union([z.number(), z.string()]).optional(),
    equals: z.union([z.number(), z.string(), z.boolean()]).optional(),
  })
  .strict()
  .refine((a) => a.max !== undefined || a.min !== undefined || a.equals !== undefined, { message: 'give a bound: max, min or equals' })
  .superRefine((a, ctx) => {
    for (const key of ['max', 'min'] as const) {
      const v = a[key];
      if (typeof v === 'string' && !(a.metric === 'tls_grade' && (GRADES as readonly string[]).includes(v))) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: a.metric === 'tls_grade' ? `expected a grade (${GRADES.join(', ')})` : 'expected a number' });
      }
    }
  });

const load = z
  .object({
    driver: z.enum(['paced', 'closed']).default('paced'),
    rate: z
      .union([z.number().positive(), z.object({ from: z.number().nonnegative(), to: z.number().positive() }).strict()], {
        errorMap: () => ({ message: 'expected requests per second (a positive number), or { from, to } for a ramp' }),
      })
      .optional(),
    connections: z.number().int().positive().max(10_000).optional(),
    mix: z.string().regex(/^\s*[a-z]+\s*=\s*\d+(\s*,\s*[a-z]+\s*=\s*\d+)*\s*$/, 'expected kind=weight pairs such as "read=8,write=2"').optional(),
    path: z.string().startsWith('/').default('/whoami'),
    duration,
    warmup: duration.default('3s'),
    bucket: duration.default('100ms'),
    max_in_flight: z.number().int().positive().optional(),
    timeout: duration.optional(),
    insecure: z.boolean().default(false),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.driver === 'paced' && l.rate === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rate'], message: 'the paced driver needs a rate (requests per second)' });
    if (l.driver === 'closed' && l.rate !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rate'], message: 'the closed driver takes connections, not a rate' });
    if (l.warmup >= l.duration) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['warmup'], message: 'must be shorter than the duration' });
  });

export const experimentSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().default(''),
    tags: z.array(z.string()).default([]),
    stack: z
      .object({
        project: z.string().optional(),
        /** Bring the reference stack up when it is not running (false: attach only). */
        bring_up: z.boolean().default(true),
      })
      .strict()
      .default({}),
    load,
    steady_state: z.array(probeActivity).default([]),
    method: z.array(methodEntry).min(1, 'an experiment needs at least one fault or probe in its method'),
    rollbacks: z.array(rollbackEntry).default([]),
    assertions: z.array(assertion).default([]),
  })
  .strict()
  .superRefine((e, ctx) => {
    e.method.forEach((m, i) => {
      const at = m.at ?? 0;
      if (at >= e.load.duration) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['method', i, 'at'], message: `must fall inside the load (duration ${e.load.duration / 1000} s)` });
      if ('fault' in m && m.for !== undefined && at + m.for > e.load.duration) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['method', i, 'for'], message: 'the fault must end before the load does, so that recovery can be seen' });
      }
    });
  });

export type ExperimentInput = z.input<typeof experimentSchema>;
export type ExperimentSpec = z.output<typeof experimentSchema>;
export type FaultStep = z.output<typeof faultActivity>;
export type ProbeStep = z.output<typeof probeActivity>;
export type RollbackStep = z.output<typeof rollbackEntry>;
export type AssertionSpec = z.output<typeof assertion>;

export interface Experiment extends ExperimentSpec {
  /** Absolute path of the file, or "<inline>". */
  file: string;
  /** File name without extension: the experiment's id in suites and reports. */
  id: string;
}

export const suiteSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().default(''),
    suite: z.array(z.string().min(1)).min(1, 'a suite lists at least one experiment file'),
    /** Keep going after an experiment fails (default true: a gameday wants the whole picture). */
    continue_on_failure: z.boolean().default(true),
  })
  .strict();

export type SuiteSpec = z.output<typeof suiteSchema>;
export interface Suite extends SuiteSpec {
  file: string;
  id: string;
  experiments: Experiment[];
}

/** Lookups the schema cannot do alone: which faults and probes exist, and their parameter checks. */
export interface Catalogue {
  faultNames(): string[];
  probeNames(): string[];
  /** Throws an error whose message names the bad parameter. */
  checkFaultParams(fault: string, params: unknown, target: string | undefined): void;
  checkProbeParams(probe: string, params: unknown): void;
}

function pathOf(path: Array<string | number>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function invalid(file: string, path: string, message: string): FaultlineError {
  return new FaultlineError('INVALID_INPUT', `${file}: ${path || '(root)'}: ${message}`);
}

function zodError(file: string, err: z.ZodError): FaultlineError {
  const issue = err.issues[0]!;
  let message = issue.message;
  if (issue.code === 'invalid_type') message = issue.received === 'undefined' ? `required (${issue.expected})` : `expected ${issue.expected}, got ${issue.received}`;
  if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union') {
    // Report the branch that got furthest, which names the real problem ("method[0].for: ...").
    const deepest = issue.unionErrors.flatMap((e) => e.issues).sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest && deepest.path.length > issue.path.length) return zodError(file, new z.ZodError([deepest]));
  }
  return invalid(file, pathOf(issue.path), message);
}

function parseYaml(file: string, text: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = text.slice(0, e.pos[0]).split('\n').length;
    throw invalid(file, `line ${line}`, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  return doc.toJS();
}

/** Validates an already-parsed experiment; `catalogue` checks fault and probe names and parameters. */
export function validateExperiment(raw: unknown, file: string, catalogue: Catalogue | undefined, env: NodeJS.ProcessEnv = process.env): Experiment {
  let substituted: unknown;
  try {
    substituted = substituteEnv(raw, env);
  } catch (err) {
    throw invalid(file, '', (err as Error).message);
  }
  const parsed = experimentSchema.safeParse(substituted);
  if (!parsed.success) throw zodError(file, parsed.error);
  const spec = parsed.data;
  if (catalogue) {
    const faults = new Set(catalogue.faultNames());
    const probes = new Set(catalogue.probeNames());
    const checkProbe = (p: ProbeStep, path: string) => {
      if (!probes.has(p.probe)) throw invalid(file, `${path}.probe`, `unknown probe "${p.probe}" (known: ${[...probes].sort().join(', ')})`);
      try {
        catalogue.checkProbeParams(p.probe, p.params);
      } catch (err) {
        throw invalid(file, `${path}.params`, (err as Error).message);
      }
    };
    spec.steady_state.forEach((p, i) => checkProbe(p, `steady_state[${i}]`));
    spec.method.forEach((m, i) => {
      if ('fault' in m) {
        if (!faults.has(m.fault)) throw invalid(file, `method[${i}].fault`, `unknown fault "${m.fault}" (see \`faultline fault list\`)`);
        try {
          catalogue.checkFaultParams(m.fault, m.params, m.target);
        } catch (err) {
          throw invalid(file, `method[${i}].params`, (err as Error).message);
        }
      } else {
        checkProbe(m, `method[${i}]`);
        if (m.during !== undefined && !spec.method.some((f) => 'fault' in f && f.fault === m.during)) {
          throw invalid(file, `method[${i}].during`, `no fault "${m.during}" in this method to probe during`);
        }
      }
    });
  }
  const id = basename(file).replace(/\.ya?ml$/, '');
  return { ...spec, file, id };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new FaultlineError('INVALID_INPUT', `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

export function isSuite(raw: unknown): boolean {
  return !!raw && typeof raw === 'object' && 'suite' in raw;
}

/**
 * Loads an experiment or a suite (every experiment of the suite is validated before anything runs).
 * `chain` is the suites being loaded around this one: a file that lists itself, directly or through
 * another, is refused by name instead of being loaded again without end.
 */
export async function loadFile(path: string, catalogue: Catalogue | undefined, env: NodeJS.ProcessEnv = process.env, chain: string[] = []): Promise<Experiment | Suite> {
  const file = resolve(path);
  if (chain.includes(file)) {
    const cycle = [...chain.slice(chain.indexOf(file)), file].map((f) => basename(f));
    throw invalid(chain[chain.length - 1]!, 'suite', `lists itself: ${cycle.join(' → ')}`);
  }
  const raw = parseYaml(file, await readText(file));
  if (!isSuite(raw)) return validateExperiment(raw, file, catalogue, env);
  const parsed = suiteSchema.safeParse(raw);
  if (!parsed.success) throw zodError(file, parsed.error);
  const experiments: Experiment[] = [];
  for (const entry of parsed.data.suite) {
    const child = resolve(dirname(file), entry);
    const loaded = await loadFile(child, catalogue, env, [...chain, file]);
    if ('suite' in loaded) throw invalid(file, 'suite', `${entry} is itself a suite; suites do not nest`);
    experiments.push(loaded);
  }
  return { ...parsed.data, file, id: basename(file).replace(/\.ya?ml$/, ''), experiments };
}
