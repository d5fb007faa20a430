// Experiment and suite files: the YAML a user writes, validated whole before anything runs. Errors name the
// file, the field path and what was expected; the runner only ever sees the typed Experiment.

import { loadStackSpec, parseStackSpec, type StackSpec } from '../stack/spec.js';
import { readFile } from 'node:fs/promises';
import { dirname, resolve, basename } from 'node:path';
import { z } from 'zod';
import { FaultlineError, InvalidFileError, fieldName } from '../errors.js';
import { ASSERTABLE_METRICS } from '../metric-table.js';
import { GRADES, isGrade } from '../probes/grade.js';
import { zodProblems, type Problem } from '../util/zod.js';
import { substituteEnv } from './env.js';
import { catalogueProblems, inFileOrder } from './catalogue-check.js';
import { parseTolerance } from '../probes/tolerance.js';
import { readYaml } from '../util/yaml.js';
import { suiteReportProblems, suiteReportSchema } from './suite-report.js';
import { stopWhenProblems, stopWhenSchema } from './stop-conditions.js';
import { loadFilePlugins } from '../plugins.js';
import { PROFILE_NAMES } from '../stack/profiles.js';

import { duration, interval, loadSchema } from './load-schema.js';
import { execActivity, execRollback } from './exec-schema.js';

const name = z
  .string()
  .min(1)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase name such as "db-primary-kill"');
const params = z.record(z.unknown()).default({});
/** Repetitions of a run (`repeat:`; `--repeat N` wins): bounded, as every loop that sends traffic is. */
export const MAX_REPEAT = 50;
const repeatField = z.number().int().min(1).max(MAX_REPEAT).optional();

/**
 * A probe step's tolerance in any of its shorthands (true/false, a number, [min, max], "<= n", ">= n", "/re/", or
 * {range}, {regex}, {'<=': n}, {'>=': n}, {equals}), checked here by the one parser the run uses: a tolerance the run
 * could not read, or a regex that does not compile, is a problem of the file, not a silent fallback mid-run.
 */
const tolerance = z.unknown().superRefine((v, ctx) => {
  if (parseTolerance(v) === null)
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `${JSON.stringify(v)} is not a tolerance (true/false, a number, [min, max], "<= n", ">= n", "/regex/" that compiles, {range}, {regex}, {equals})`,
    });
});

const probeActivity = z
  .object({
    probe: name,
    params,
    tolerance: tolerance.optional(),
    /** Once at this offset from the start of load. */
    at: duration.optional(),
    /** Continuously, on this interval, while load runs. */
    every: interval.optional(),
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
    /**
     * Inject it this many times in the one run (default once), `every` apart from start to start: each injection is
     * one sample of the per-fault figures (src/experiment/event-samples.ts), so one run gives an interval.
     */
    times: z.number().int().min(1).max(MAX_REPEAT).optional(),
    every: duration.optional(),
    title: z.string().optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const add = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if ((f.times ?? 1) > 1 && f.every === undefined) add('every', 'a fault injected several times needs "every" (start to start)');
    if (f.every !== undefined && (f.times ?? 1) < 2) add('times', '"every" needs "times" of 2 or more');
    if (f.every !== undefined && f.every <= (f.for ?? 0)) add('every', 'must be longer than "for": each injection ends before the next one starts');
  });

// The exec branch first: an entry naming an `action` is an exec, its problems its own (exec-schema.ts).
const methodEntry = z.union([execActivity, faultActivity, probeActivity], {
  errorMap: () => ({
    message: 'expected a fault activity ({fault, at, for}), a probe activity ({probe, at|every|during}) or an action ({action: exec, target, command})',
  }),
});

const rollbackEntry = z.union([
  execRollback,
  z
    .object({
      action: z.enum(['revert-faults', 'restart', 'wait-healthy']),
      target: z.string().optional(),
      timeout: duration.optional(),
    })
    .strict(),
]);

const assertion = z
  .object({
    metric: z.enum(ASSERTABLE_METRICS),
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
      if (typeof v === 'string' && !(a.metric === 'tls_grade' && isGrade(v))) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key],
          message: a.metric === 'tls_grade' ? `expected a grade (${GRADES.join(', ')})` : 'expected a number',
        });
      }
    }
  });

export const experimentSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().default(''),
    tags: z.array(z.string()).default([]),
    stack: z
      .object({
        project: z.string().optional(),
        /** Bring the reference stack up when it is not running (false: attach only; default true). */
        bring_up: z.boolean().optional(),
        /** A stack description file (relative to the experiment): a stack faultline did not start, attached, never brought up. */
        file: z.string().min(1).optional(),
        /** The same description, inline. */
        description: z.record(z.unknown()).optional(),
      })
      .strict()
      .superRefine((s, ctx) => {
        const add = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
        if (s.file && s.description) add('description', 'give either file or description, not both');
        if ((s.file || s.description) && s.bring_up)
          add('bring_up', 'a described stack is attached, not brought up: faultline starts only its reference stack');
        if ((s.file || s.description) && s.project) add('project', 'the description names the project (its project field)');
      })
      .default({}),
    load: loadSchema,
    steady_state: z.array(probeActivity).default([]),
    method: z.array(methodEntry).min(1, 'an experiment needs at least one fault or probe in its method'),
    max_targets: z.number().int().positive().optional(), // the blast radius: no fault step may act on more containers or servers
    rollbacks: z.array(rollbackEntry).default([]),
    assertions: z.array(assertion).default([]),
    /** Conditions that end the run early, checked live on the load's timeline (src/experiment/stop-conditions.ts). */
    stop_when: stopWhenSchema,
    /** Plugin modules (.mjs/.js, relative to this file) whose faults, probes and report formats the file may use (src/plugins.ts). */
    plugins: z.array(z.string().min(1)).default([]),
    /** Run it this many times; the journal keeps every repetition and reports give each figure's median and interval. */
    repeat: repeatField,
    /**
     * The reference stack's profiles it applies to (default: every one). On another profile `run` and `run --dry-run`
     * refuse it in one line before anything starts (exit 7); a stack from --stack or stack.file is not a profile.
     */
    profiles: z.array(z.enum(PROFILE_NAMES)).min(1).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    for (const p of stopWhenProblems(e)) ctx.addIssue({ code: z.ZodIssueCode.custom, ...p });
    e.method.forEach((m, i) => {
      const at = m.at ?? 0;
      if (at >= e.load.duration)
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['method', i, 'at'], message: `must fall inside the load (duration ${e.load.duration / 1000} s)` });
      const last = 'fault' in m ? at + ((m.times ?? 1) - 1) * (m.every ?? 0) : at;
      if ('fault' in m && (m.times ?? 1) > 1 && last + (m.for ?? 0) > e.load.duration)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['method', i, 'times'],
          message: `injection ${m.times} would end at ${(last + (m.for ?? 0)) / 1000} s, after the load (duration ${e.load.duration / 1000} s)`,
        });
      else if ('fault' in m && m.for !== undefined && at + m.for > e.load.duration) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['method', i, 'for'],
          message: 'the fault must end before the load does, so that recovery can be seen',
        });
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
  /** The stack it runs against, when it names a description (stack.file or stack.description); else the reference stack. */
  stackSpec?: StackSpec;
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
    /** What the compare report of two runs of the suite shows (src/experiment/suite-report.ts). */
    report: suiteReportSchema.optional(),
    /** Run the whole suite this many times, round by round (src/experiment/suite.ts); wins over an experiment's own. */
    repeat: repeatField,
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const p of s.report ? suiteReportProblems(s.report, s.suite) : []) ctx.addIssue({ code: z.ZodIssueCode.custom, ...p });
  });

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

export { InvalidFileError };

function parseYaml(file: string, text: string): unknown {
  const read = readYaml(text);
  if ('problems' in read) throw new InvalidFileError(file, read.problems);
  return read.data;
}

/** Validates an already-parsed experiment; `catalogue` checks fault and probe names and parameters. Throws every problem at once. */
export function validateExperiment(raw: unknown, file: string, catalogue: Catalogue | undefined, env: NodeJS.ProcessEnv = process.env): Experiment {
  const envProblems: Problem[] = [];
  const substituted = substituteEnv(raw, env, '', envProblems);
  if (envProblems.length) throw new InvalidFileError(file, inFileOrder(envProblems, raw));
  const parsed = experimentSchema.safeParse(substituted);
  const problems = [...(parsed.success ? [] : zodProblems(parsed.error)), ...(catalogue ? catalogueProblems(substituted, catalogue) : [])];
  if (problems.length || !parsed.success) throw new InvalidFileError(file, inFileOrder(problems, raw));
  const id = basename(file).replace(/\.ya?ml$/, '');
  const inline = parsed.data.stack.description;
  if (!inline) return { ...parsed.data, file, id };
  try {
    return { ...parsed.data, file, id, stackSpec: parseStackSpec(inline, file === '<inline>' ? '<inline>' : file, env) };
  } catch (err) {
    if (!(err instanceof InvalidFileError)) throw err;
    throw new InvalidFileError(
      file,
      err.problems.map((p) => ({ path: fieldName(p.path, 'stack.description'), message: p.message })),
    );
  }
}

/** Reads the description an experiment's stack.file names (relative to the experiment); its problems are the experiment's. */
async function withStackFile(exp: Experiment, env: NodeJS.ProcessEnv): Promise<Experiment> {
  if (!exp.stack.file) return exp;
  const path = resolve(dirname(exp.file), exp.stack.file);
  try {
    return { ...exp, stackSpec: await loadStackSpec(path, env) };
  } catch (err) {
    if (err instanceof InvalidFileError) {
      throw new InvalidFileError(
        exp.file,
        err.problems.map((p) => ({ path: 'stack.file', message: `${path}: ${fieldName(p.path, err.root)}: ${p.message}` })),
      );
    }
    if (err instanceof FaultlineError) throw new InvalidFileError(exp.file, [{ path: 'stack.file', message: err.message.replace(/^stack: /, '') }]);
    throw err;
  }
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
export async function loadFile(
  path: string,
  catalogue: Catalogue | undefined,
  env: NodeJS.ProcessEnv = process.env,
  chain: string[] = [],
): Promise<Experiment | Suite> {
  const file = resolve(path);
  if (chain.includes(file)) {
    const cycle = [...chain.slice(chain.indexOf(file)), file].map((f) => basename(f));
    throw new InvalidFileError(chain[chain.length - 1]!, [{ path: 'suite', message: `lists itself: ${cycle.join(' → ')}` }]);
  }
  const raw = parseYaml(file, await readText(file));
  if (!isSuite(raw)) {
    // Plugins first: the catalogue check needs the names they register (also a suite's experiments, each through here).
    await loadFilePlugins(raw, file, env);
    return withStackFile(validateExperiment(raw, file, catalogue, env), env);
  }
  const parsed = suiteSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidFileError(file, zodProblems(parsed.error));
  const experiments: Experiment[] = [];
  // Every listed file is checked, so that one validate shows every problem of the suite.
  const problems: Problem[] = [];
  for (const [i, entry] of parsed.data.suite.entries()) {
    const child = resolve(dirname(file), entry);
    try {
      const loaded = await loadFile(child, catalogue, env, [...chain, file]);
      if ('suite' in loaded) problems.push({ path: `suite[${i}]`, message: `${entry} is itself a suite; suites do not nest` });
      else experiments.push(loaded);
    } catch (err) {
      if (!(err instanceof InvalidFileError) || err.file === file) throw err;
      problems.push(...err.problems.map((p) => ({ path: `suite[${i}]`, message: `${entry}: ${fieldName(p.path, err.root)}: ${p.message}` })));
    }
  }
  if (problems.length) throw new InvalidFileError(file, problems);
  return { ...parsed.data, file, id: basename(file).replace(/\.ya?ml$/, ''), experiments };
}
