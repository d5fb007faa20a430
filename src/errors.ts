// One error type for the whole toolkit: a stable code decides the exit status and how the CLI shows it.

/** Exit codes, shared by every command. */
export const ExitCode = {
  ok: 0,
  /** An assertion or the steady-state hypothesis failed. */
  failed: 1,
  /** The user's input is invalid (flags, experiment file, parameters). */
  invalidInput: 2,
  /** The environment failed: no Docker engine, stack will not start, target unreachable. */
  environment: 3,
  /** A fault could not be reverted; the stack may still be damaged. */
  revertFailed: 4,
  /** A stop condition (stop_when) fired: the run's faults were reverted and its load stopped early. (5 is bin/faultline.js's "not built".) */
  stopped: 6,
  /** The experiment declares the reference stack's profiles it applies to (`profiles:`), and this run is on another. */
  otherProfile: 7,
  /** Interrupted by Ctrl-C / SIGTERM after cleanup ran. */
  interrupted: 130,
} as const;

export type ErrorCode =
  | 'INVALID_INPUT'
  /** A fault, probe or report format that no registry knows. */
  | 'UNKNOWN_NAME'
  | 'UNKNOWN_TARGET'
  | 'UNSAFE_TARGET'
  | 'DOCKER_UNAVAILABLE'
  | 'COMPOSE_UNAVAILABLE'
  | 'PORT_IN_USE'
  | 'STACK_FAILED'
  | 'BUILD_FAILED'
  /** A swarm faultline makes or attaches to did not come up or answer as it should. */
  | 'SWARM_FAILED'
  | 'TARGET_UNREACHABLE'
  | 'TIMEOUT'
  | 'REVERT_FAILED'
  /** An experiment run on a reference stack profile it does not apply to (its `profiles:`). */
  | 'WRONG_PROFILE'
  | 'ABORTED'
  | 'INTERNAL';

const exitByCode: Record<ErrorCode, number> = {
  INVALID_INPUT: ExitCode.invalidInput,
  UNKNOWN_NAME: ExitCode.invalidInput,
  UNKNOWN_TARGET: ExitCode.invalidInput,
  UNSAFE_TARGET: ExitCode.invalidInput,
  DOCKER_UNAVAILABLE: ExitCode.environment,
  COMPOSE_UNAVAILABLE: ExitCode.environment,
  PORT_IN_USE: ExitCode.environment,
  STACK_FAILED: ExitCode.environment,
  BUILD_FAILED: ExitCode.environment,
  SWARM_FAILED: ExitCode.environment,
  TARGET_UNREACHABLE: ExitCode.environment,
  TIMEOUT: ExitCode.environment,
  REVERT_FAILED: ExitCode.revertFailed,
  WRONG_PROFILE: ExitCode.otherProfile,
  ABORTED: ExitCode.interrupted,
  INTERNAL: ExitCode.environment,
};

export class FaultlineError extends Error {
  readonly code: ErrorCode;
  /** Optional hint on how to fix it, shown after the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FaultlineError';
    this.code = code;
    this.hint = options.hint;
  }

  get exitCode(): number {
    return exitByCode[this.code];
  }
}

export function invalidInput(field: string, message: string): FaultlineError {
  return new FaultlineError('INVALID_INPUT', `${field}: ${message}`);
}

/** One thing wrong with an input: where (a field path such as "method[0].at", or "" for the whole) and what. */
export interface Problem {
  path: string;
  message: string;
}

/**
 * A field's name as the user reads it: `path` under `root` (a stack description's fields read "stack.endpoint.url",
 * the description itself "stack"); without a root, a file's top level is "(root)".
 */
export function fieldName(path: string, root?: string): string {
  if (root === undefined) return path || '(root)';
  return path ? `${root}.${path}` : root;
}

/** Every problem of a file at once (experiment, suite or stack description): one line each, naming the file and the field. */
export class InvalidFileError extends FaultlineError {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
    /** What the file's fields are named under ("stack" for a stack description); none for experiment and suite files. */
    readonly root?: string,
  ) {
    super('INVALID_INPUT', problems.map((p) => `${file}: ${fieldName(p.path, root)}: ${p.message}`).join('\n'));
  }
}

/** Wraps anything thrown into a FaultlineError, keeping the original as cause. */
export function asFaultlineError(err: unknown, fallback: ErrorCode = 'INTERNAL'): FaultlineError {
  if (err instanceof FaultlineError) return err;
  if (isAbortError(err)) return new FaultlineError('ABORTED', 'interrupted', { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new FaultlineError(fallback, message, { cause: err });
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR');
}
