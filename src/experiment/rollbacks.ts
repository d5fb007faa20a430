// The last phase, run always (also after an interrupt or a failed step): the faults the run still holds reverted,
// then the experiment's own rollbacks (restart, wait-healthy, exec), each recorded; a failed rollback decides the status.

import { FaultlineError, asFaultlineError } from '../errors.js';
import { createFaultContext, revertRecorded, type ActiveFault, type FaultContext, type FaultRegistry } from '../faults/index.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { isHelper, isReady } from '../stack/servers.js';
import { retryUntil } from '../util/retry.js';
import { iso } from './activities.js';
import { runExecAction } from './exec-action.js';
import type { RollbackStep, Experiment } from './schema.js';
import type { ActivityRecord, ExperimentJournal } from './journal.js';
import type { Log } from './run-options.js';

/**
 * The final safety net of a run: reverts every fault it still holds (each one tried, whatever the others
 * did), then everything it recorded, this process's own records included (a fault whose apply and own revert
 * both failed is still recorded, and this process is its holder). Throws REVERT_FAILED naming every fault
 * that is still in effect.
 */
export async function revertRunFaults(
  active: Iterable<ActiveFault>,
  ctx: FaultContext,
  registry: FaultRegistry,
): Promise<{ reverted: string[]; helpersRemoved: number }> {
  // A failed revert keeps its record, so the pass over the records below tries it once more and is the
  // verdict; a record that is gone was reverted (by this run or by `faultline revert`).
  for (const f of [...active])
    await f.revert(AbortSignal.timeout(120_000)).catch((err: unknown) => ctx.log(`revert of ${f.id} failed: ${asFaultlineError(err).message}`));
  const summary = await revertRecorded(ctx, registry, { all: false, own: true, log: ctx.log });
  if (summary.failed.length) {
    throw new FaultlineError('REVERT_FAILED', summary.failed.map((f) => f.error.message).join('; '), {
      hint: `still recorded in ${ctx.store.path}; run \`faultline revert --all --project ${ctx.stack.project}\``,
    });
  }
  return { reverted: summary.reverted.map((r) => r.id), helpersRemoved: summary.helpersRemoved };
}

/**
 * The run's status once rollbacks ran: a failed rollback makes it an error even after an interrupt, since a
 * stack left damaged (exit 4) matters more than the interrupt (130). Pure apart from the journal it updates.
 */
export function settleAfterRollbacks(journal: ExperimentJournal): void {
  const failed = journal.rollbacks.filter((r) => r.status !== 'succeeded');
  if (!failed.length) return;
  const interrupted = journal.status === 'interrupted';
  journal.status = 'error';
  journal.reason = `${interrupted ? 'interrupted, and ' : ''}a rollback failed: ${failed.map((r) => r.error).join('; ')}`;
}

/**
 * Runs the rollbacks of a run that acquired its stack, with fresh signals (an interrupt must never cancel a cleanup):
 * revert-faults first, then the experiment's others in order; each is recorded, none stops the next.
 */
export async function rollbacks(
  exp: Experiment,
  stack: AttachedStack | undefined,
  active: Set<ActiveFault>,
  journal: ExperimentJournal,
  faults: FaultRegistry,
  log: Log,
): Promise<void> {
  if (!stack) return;
  const steps: RollbackStep[] = [{ action: 'revert-faults' }, ...exp.rollbacks.filter((r) => r.action !== 'revert-faults')];
  for (const step of steps) {
    if (step.action === 'exec') {
      // Its own record (kind action); a fresh signal: only the command's timeout ends it.
      const { action: _exec, ...spec } = step;
      journal.rollbacks.push(await runExecAction(stack, spec, { phase: 'rollback', signal: new AbortController().signal, maxTargets: exp.max_targets, log }));
      continue;
    }
    const start = Date.now();
    const record: ActivityRecord = {
      kind: 'rollback',
      name: step.action,
      phase: 'rollback',
      status: 'succeeded',
      start: iso(start),
      end: '',
      target: step.target,
    };
    try {
      if (step.action === 'revert-faults') {
        record.output = await revertRunFaults(active, createFaultContext(stack, { log }), faults);
      } else if (step.action === 'restart') {
        if (!step.target) throw new FaultlineError('INVALID_INPUT', 'rollbacks: restart needs a target');
        const c = (await stack.containers()).filter((x) => x.service === step.target || x.name === step.target);
        if (!c.length) throw new FaultlineError('UNKNOWN_TARGET', `no container ${step.target} in stack ${stack.project}`);
        for (const x of c) await stack.docker.restart(x.id, 5);
      } else if (step.action === 'wait-healthy') {
        await retryUntil(
          () => stack.containers(),
          (list) => list.filter((c) => !isHelper(c)).every(isReady),
          { timeoutMs: step.timeout ?? 60_000, intervalMs: 500, what: 'every container to be healthy' },
        );
      }
    } catch (err) {
      record.status = 'error';
      record.error = asFaultlineError(err).message;
      log(`rollback ${step.action} failed: ${record.error}`);
    } finally {
      record.end = iso();
      journal.rollbacks.push(record);
    }
  }
  settleAfterRollbacks(journal);
}
