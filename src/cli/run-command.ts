// The one place that turns an error into a line on stderr and an exit code; commands only throw.

import { asFaultlineError, ExitCode } from '../errors.js';

/** Wraps a command action: sets process.exitCode from the result or the error, prints one clear line. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? ExitCode.ok;
    } catch (err) {
      const e = asFaultlineError(err);
      process.stderr.write(`faultline: ${e.message}\n`);
      if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
      if (process.env.FAULTLINE_DEBUG && e.cause instanceof Error) process.stderr.write(`${e.cause.stack ?? e.cause}\n`);
      process.exitCode = e.exitCode;
    }
  };
}

const INTERRUPTS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * An AbortSignal that fires on the first Ctrl-C, SIGTERM or SIGHUP (a closed terminal, a dropped SSH
 * session: without a handler Node dies at once and leaves the fault in place); a second one exits at once.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (name: NodeJS.Signals) => {
    count += 1;
    if (name === 'SIGHUP') {
      // The terminal is gone: writing to it fails with EIO/EPIPE, which must not kill the cleanup.
      process.stdout.on('error', () => undefined);
      process.stderr.on('error', () => undefined);
    }
    if (count === 1) {
      process.stderr.write(`\nfaultline: ${name} received, cleaning up (press again to force)\n`);
      controller.abort(new Error(`interrupted by ${name}`));
    } else {
      process.stderr.write('faultline: forced exit; run `faultline revert` to undo any fault left behind\n');
      // The one place allowed to exit: the user asked twice.
      process.exit(ExitCode.interrupted);
    }
  };
  for (const name of INTERRUPTS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of INTERRUPTS) process.off(name, onSignal);
    },
  };
}
