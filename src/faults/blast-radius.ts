// The blast radius: a fault whose target resolves to more containers or servers than its max_targets is refused when
// it is planned, before a record is written or anything is touched. Pure.

import { FaultlineError } from '../errors.js';
import type { ConfiguredFault } from './registry.js';
import type { FaultPlan } from './types.js';

/** A fault refused for its blast radius (INVALID_INPUT, exit 2). */
export class BlastRadiusError extends FaultlineError {}

/** Throws INVALID_INPUT (exit 2) when `plan` acts on more targets than `fault.maxTargets` allows. */
export function checkBlastRadius(fault: ConfiguredFault, plan: Pick<FaultPlan, 'targets'>): void {
  const max = fault.maxTargets;
  if (max === undefined || plan.targets.length <= max) return;
  const where = fault.target === undefined ? '' : ` on "${fault.target}"`;
  throw new BlastRadiusError(
    'INVALID_INPUT',
    `${fault.definition.name}${where} resolves to ${plan.targets.length} targets (${plan.targets
      .map((t) => t.service || t.name)
      .sort()
      .join(', ')}), more than max_targets ${max}; nothing was injected`,
    { hint: 'narrow the target (e.g. count:N:role=web) or raise max_targets' },
  );
}
