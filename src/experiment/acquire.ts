// The first phase of a run: the stack it works on (a described stack attached and waited for, the reference stack
// brought up, or attached when bring_up is false and then it must already serve), and what the later phases need of
// it, asked once: its status for the journal and its endpoint's CA and TLS options.

import { FaultlineError } from '../errors.js';
import { ReferenceStack } from '../stack/reference-stack.js';
import { attachStack, type AttachOptions } from '../stack/attach.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { StackOptions } from '../stack/config.js';
import { isReady, type StackStatus } from '../stack/servers.js';
import type { Experiment } from './schema.js';
import type { Log } from './run-options.js';

export type { EndpointTlsOptions } from '../stack/endpoint-tls.js';
import type { EndpointTlsOptions } from '../stack/endpoint-tls.js';

/** The acquired stack as the later phases take it. */
export interface RunTarget {
  stack: AttachedStack;
  /** The stack's status when the run began (the journal's `stack`). */
  status: StackStatus;
  /**
   * TLS options for a client of the endpoint: verifying it against its CA, read once when the stack was acquired, or
   * not at all. A CA that could not be read throws here, so it fails the phase that verifies, not the run's start.
   */
  tls(verify: boolean): EndpointTlsOptions;
}

export async function acquireStack(exp: Experiment, options: { stack?: AttachOptions | undefined; signal: AbortSignal }, log: Log): Promise<AttachedStack> {
  const { stackFile, spec: _spec, ...cli } = options.stack ?? {};
  if (exp.stackSpec || stackFile) {
    // A described stack is not faultline's to start: attach, then wait until it is ready (or say why not).
    const stack = await attachStack({ ...cli, ...(exp.stackSpec ? { spec: exp.stackSpec } : { stackFile }) });
    await stack.waitReady({ timeoutMs: stack.spec.ready_timeout, signal: options.signal, log });
    return stack;
  }
  const overrides: Partial<StackOptions> = { ...cli, ...(exp.stack.project ? { project: exp.stack.project } : {}) };
  if (exp.stack.bring_up ?? true) return new ReferenceStack(overrides).up({ signal: options.signal, log });
  const stack = await attachStack(overrides);
  const containers = await stack.containers();
  if (!containers.length || !containers.every(isReady)) {
    throw new FaultlineError('STACK_FAILED', `stack ${stack.project} is not running and healthy (bring_up is false)`, { hint: 'faultline stack up' });
  }
  return stack;
}

/** What the later phases need of the acquired stack, asked of it once: its status, its endpoint's CA and TLS options. */
export async function targetOf(stack: AttachedStack): Promise<RunTarget> {
  const status = await stack.status();
  let ca: string | undefined;
  let caError: unknown;
  try {
    ca = await stack.ca();
  } catch (err) {
    caError = err;
  }
  return {
    stack,
    status,
    tls: (verify) => {
      if (verify && caError !== undefined) throw caError;
      return stack.tlsOptions(verify ? ca : undefined);
    },
  };
}
