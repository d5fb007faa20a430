// The built-in `action: exec` of an experiment file (a command in the stack's containers, with a timeout), as the
// method and the rollbacks accept it; validated here once, so the run sees only typed steps (exec-action.ts runs them).

import { z } from 'zod';
import { durationField } from '../util/zod.js';
import { duration } from './load-schema.js';

/** A command runs at most an hour: long enough for a backup or a reindex, short enough that a run always ends. */
export const MAX_EXEC_TIMEOUT_MS = 3_600_000;
export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

const EXIT_MESSAGE = 'expected an exit code from 0 to 255';
const COMMAND_MESSAGE = 'expected an argv list (["mysql", "-e", "FLUSH LOGS"]) or a string, which runs with sh -c';

/** YAML reads `[sleep, 60]` with a number in it: an argument is its text. */
const argument = z
  .union([z.string(), z.number(), z.boolean()], { errorMap: () => ({ message: 'expected a string (an argument of the command)' }) })
  .transform(String);

const command = z.union([z.string().min(1, COMMAND_MESSAGE), z.array(argument).min(1, COMMAND_MESSAGE)], { errorMap: () => ({ message: COMMAND_MESSAGE }) });

const envValue = z
  .union([z.string(), z.number(), z.boolean()], { errorMap: () => ({ message: "expected a string (the variable's value)" }) })
  .transform(String);

const execFields = {
  action: z.literal('exec', { errorMap: () => ({ message: 'expected "exec"' }) }),
  /** The containers it runs in: a fault target (server=, role=, component=, service=, with all:, random:, count:N:, percent:N:); on several, it runs on each. */
  target: z.string().min(1, 'expected a target such as service=db-primary-mariadb or all:role=web,component=app'),
  /** An argv list, run as it is; or a string, run with `sh -c`. */
  command,
  /** The command is killed (with everything it started) when it runs longer; default 30s. */
  timeout: durationField({ min: 1, max: MAX_EXEC_TIMEOUT_MS }).default(`${DEFAULT_EXEC_TIMEOUT_MS / 1000}s`),
  /** The exit code that counts as success (default 0). */
  expect_exit: z.number().int().min(0, EXIT_MESSAGE).max(255, EXIT_MESSAGE).default(0),
  /** The user it runs as (name or uid[:gid]); default the container's. */
  user: z.string().min(1).optional(),
  /** Environment variables for the command. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name (letters, digits, _)'), envValue).optional(),
  title: z.string().optional(),
};

const hasAction = (v: unknown): v is { action: unknown } => Boolean(v && typeof v === 'object' && !Array.isArray(v) && 'action' in v);

/**
 * Routes an entry that names an `action` to the exec schema and refuses any other at once (a fatal issue at the
 * entry, shallower than any field's), so a union lists an exec entry's own field problems ("method[2].command: …")
 * and never "fault: required" from a branch it was not meant for; other entries go on to the union's other branches.
 */
function actionEntry<T extends z.ZodRawShape>(shape: T, isExec: (v: unknown) => boolean) {
  const object = z.object(shape).strict();
  const routed = z.preprocess((v, ctx) => {
    if (!isExec(v)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not an action', fatal: true });
    return v;
  }, object);
  // The preprocess passes its value through unchanged: the input side is the object's, for types and editor schemas.
  return routed as unknown as z.ZodType<z.output<typeof object>, z.ZodTypeDef, z.input<typeof object>>;
}

/** `- action: exec` in `method:` (any entry naming an `action`: faults and probes have none), at an offset from the start of load like a fault. */
export const execActivity = actionEntry({ ...execFields, at: duration.default('0s') }, hasAction);

/** `- action: exec` in `rollbacks:` (beside revert-faults, restart and wait-healthy), run after the method (after faults are reverted), in the rollbacks' order. */
export const execRollback = actionEntry(execFields, (v) => hasAction(v) && v.action === 'exec');

export type ExecStep = z.output<typeof execActivity>;
export type ExecRollbackStep = z.output<typeof execRollback>;
/** What exec-action.ts needs of either. */
export type ExecSpec = Omit<ExecRollbackStep, 'action'>;
