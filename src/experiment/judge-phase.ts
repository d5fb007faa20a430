// The judge phase: what the method measured, the web capacity the method's faults took away (from the stack's
// containers now), and the steady state after, judged against the experiment's assertions into the journal.

import type { AttachedStack } from '../stack/attached-stack.js';
import { webServersOf } from '../stack/servers.js';
import { verdict, type Measured } from './judge.js';
import { webCapacityLost } from './metrics.js';
import { capacitySamples } from './event-samples.js';
import type { Experiment } from './schema.js';
import type { ExperimentJournal } from './journal.js';
import { describeStop } from './stop-conditions.js';

/** Writes the run's metrics, assertion results and verdict into the journal. */
export async function judgePhase(exp: Experiment, stack: AttachedStack, journal: ExperimentJournal, measured: Measured): Promise<void> {
  const webServers = webServersOf(await stack.containers().catch(() => []));
  const capacityLost = webCapacityLost(journal.method, webServers);
  const metrics = capacityLost === null ? measured.metrics : { ...measured.metrics, web_capacity_lost_ratio: capacityLost };
  journal.metrics = metrics;
  // Per-injection samples of a repeated fault, the capacity each injection took among them.
  const capacity = capacitySamples(journal.method, webServers);
  const samples = capacity ? { per: 'injection' as const, metrics: { ...measured.samples?.metrics, web_capacity_lost_ratio: capacity } } : measured.samples;
  if (samples) journal.samples = samples;
  const v = verdict({ assertions: exp.assertions, metrics, method: journal.method, steadyStateAfterMet: journal.steadyStateAfter.met });
  journal.assertions = v.assertions;
  journal.status = v.status;
  journal.reason = v.reason;
  // A stop outranks the verdict: the run was cut short, so its assertions judged only part of it.
  if (journal.stop) Object.assign(journal, { status: 'stopped', reason: `${describeStop(journal.stop)}; faults reverted and load stopped (${v.reason})` });
}
