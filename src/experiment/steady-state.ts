// The steady state: the experiment's probes, each looked at once, before the method (after the stack's read-backs
// are checked; if it does not hold, nothing is injected) and after it (when the probes know the run's load).

import { checkReadbacks } from '../probes/readback.js';
import type { ProbeContext } from '../probes/types.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { EndpointTlsOptions } from '../stack/endpoint-tls.js';
import { probeOnce } from './activities.js';
import type { Experiment } from './schema.js';
import type { ActivityRecord, ExperimentJournal, Phase } from './journal.js';
import type { Log, ProbeCatalogue } from './run-options.js';

export type SteadyState = ExperimentJournal['steadyStateBefore'];

/** What a probe of a run looks at: the stack, its Docker client, and what the phase adds (the load's timeline, its ledger). */
export function probeContext(stack: AttachedStack, extra: Partial<ProbeContext> = {}): ProbeContext {
  return { stack, docker: stack.docker, ...extra };
}

/** Looks once with each steady-state probe; `met` is null when the experiment declares none. */
export async function steadyState(
  exp: Experiment,
  stack: AttachedStack,
  probes: Pick<ProbeCatalogue, 'get'>,
  phase: Phase,
  signal: AbortSignal,
  extra: Partial<ProbeContext> = {},
): Promise<SteadyState> {
  if (!exp.steady_state.length) return { met: null, activities: [] };
  const activities: ActivityRecord[] = [];
  for (const step of exp.steady_state) activities.push(await probeOnce(probes.get(step.probe), step, phase, probeContext(stack, extra), signal));
  return { met: activities.every((a) => a.status === 'succeeded'), activities };
}

/** The stack's read-backs checked, then the steady state before the method. */
export async function steadyStateBefore(
  exp: Experiment,
  stack: AttachedStack,
  probes: Pick<ProbeCatalogue, 'get'>,
  signal: AbortSignal,
  log: Log,
  tls: () => EndpointTlsOptions,
): Promise<SteadyState> {
  await checkReadbacks(stack, signal, tls);
  log(`steady state before: ${exp.steady_state.length} probe(s)`);
  return steadyState(exp, stack, probes, 'steady-state-before', signal);
}

/** The journal's status and reason when the steady state did not hold before the method (pure). */
export function notHeldBefore(before: SteadyState): Pick<ExperimentJournal, 'status' | 'reason'> {
  const failed = before.activities.filter((a) => a.status !== 'succeeded').map((a) => a.name);
  return { status: 'steady-state-failed', reason: `the steady state did not hold before the method (${failed.join(', ')}), so no fault was injected` };
}
