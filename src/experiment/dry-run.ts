// `faultline run --dry-run` and the blast radius of a run: every fault and exec step of a method planned against the live stack
// (targets resolved, nothing recorded, nothing injected), as the timeline the run would follow.

import { asFaultlineError, FaultlineError } from '../errors.js';
import { createFaultContext, planFault, type FaultRegistry } from '../faults/index.js';
import { BlastRadiusError } from '../faults/blast-radius.js';
import type { TimelineEntry } from '../faults/format.js';
import { attachStack, type AttachOptions } from '../stack/attach.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { isHelper } from '../stack/servers.js';
import type { Experiment } from './schema.js';
import { execTimelineEntry } from './exec-action.js';

/**
 * The stack an experiment runs against, attached only: a dry run never brings a stack up or waits for it, so a stack
 * that is not running is an environment failure (exit 3), not something to start.
 */
export async function attachForDryRun(exp: Experiment, options: AttachOptions = {}): Promise<AttachedStack> {
  const { stackFile, spec: _spec, ...cli } = options;
  const stack = await attachStack(
    exp.stackSpec || stackFile
      ? { ...cli, ...(exp.stackSpec ? { spec: exp.stackSpec } : { stackFile }) }
      : { ...cli, ...(exp.stack.project ? { project: exp.stack.project } : {}) },
  );
  if (!(await stack.containers()).some((c) => !isHelper(c)))
    throw new FaultlineError('STACK_FAILED', `stack ${stack.project} is not running; a dry run attaches to a running stack and never brings one up`, {
      hint: 'faultline stack up',
    });
  return stack;
}

/**
 * Every step of the method in the order of its start, each fault step planned against the stack with the experiment's
 * max_targets (a plan that fails is the entry's error, so every step is shown). Plans change nothing.
 */
export async function planMethod(exp: Experiment, stack: AttachedStack, faults: FaultRegistry, signal: AbortSignal): Promise<TimelineEntry[]> {
  const registry = faults.limitedTo(exp.max_targets);
  const entries: TimelineEntry[] = [];
  for (const step of exp.method) {
    if ('action' in step) {
      entries.push(await execTimelineEntry(stack, step, exp.max_targets, signal));
      continue;
    }
    if (!('fault' in step)) {
      entries.push({
        kind: 'probe',
        name: step.probe,
        ...(step.at !== undefined ? { atMs: step.at } : {}),
        ...(step.every !== undefined ? { everyMs: step.every } : {}),
        ...(step.during !== undefined ? { during: step.during } : {}),
      });
      continue;
    }
    const entry: TimelineEntry = {
      kind: 'fault',
      name: step.fault,
      target: step.target,
      atMs: step.at,
      forMs: step.for ?? 0,
      ...((step.times ?? 1) > 1 ? { times: step.times, everyMs: step.every } : {}),
    };
    try {
      const configured = registry.configure(step.fault, { target: step.target, params: step.params });
      entry.target = configured.target;
      entry.plan = await planFault(createFaultContext(stack, { holdMs: step.for ?? 0 }), configured, signal);
    } catch (err) {
      signal.throwIfAborted();
      entry.error = asFaultlineError(err);
    }
    entries.push(entry);
  }
  // Probes `every` and `during` have no start of their own: they keep their place after the timed steps.
  const method = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.atMs ?? Infinity) - (b.e.atMs ?? Infinity) || a.i - b.i)
    .map(({ e }) => e);
  const after: TimelineEntry[] = [];
  for (const step of exp.rollbacks)
    if (step.action === 'exec') after.push({ ...(await execTimelineEntry(stack, step, exp.max_targets, signal)), rollback: true });
  return [...method, ...after];
}

/**
 * A run's blast radius, checked before its load starts: with max_targets set, a fault step whose target resolves to
 * more containers or servers is refused before any fault is injected (exit 2). Other planning errors are left to the
 * step itself, as without max_targets, since a target may resolve differently once earlier faults have acted.
 */
export async function checkMethodBlastRadius(exp: Experiment, stack: AttachedStack, faults: FaultRegistry, signal: AbortSignal): Promise<void> {
  const acts = exp.method.some((s) => 'fault' in s || 'action' in s) || exp.rollbacks.some((r) => r.action === 'exec');
  if (exp.max_targets === undefined || !acts) return;
  const refused = (await planMethod(exp, stack, faults, signal)).find((e) => e.error instanceof BlastRadiusError);
  if (refused?.error) throw refused.error;
}

/** The exit code a dry run ends with: 0 when every step planned, else the first failure's (2 for a target). */
export function dryRunExitCode(entries: TimelineEntry[]): number {
  return entries.find((e) => e.error)?.error?.exitCode ?? 0;
}
