// The fault catalogue: the shipped faults, one registration line per fault module, and the registry kind
// (src/registry.ts) that looks faults up by name and validates parameters once at the edge.

import { Registry } from '../registry.js';
import { certificateFaults } from './certificate-faults.js';
import { diskFaults } from './disk-fill.js';
import { edgeHttpFaults } from './edge-http.js';
import { firewallFaults } from './firewall-faults.js';
import { networkFaults } from './network-faults.js';
import { nodeFaults } from './node-faults.js';
import { parseParams } from './params.js';
import { processFaults } from './process-faults.js';
import { proxyFaults } from './proxy-faults.js';
import { resourceFaults } from './resource-faults.js';
import { parseTarget } from './targets.js';
import type { AnyFaultDefinition } from './types.js';

/** A definition with validated parameters and target: what inject() and --dry-run work on. */
export interface ConfiguredFault {
  definition: AnyFaultDefinition;
  target: string | undefined;
  params: unknown;
  /** The blast radius: planning refuses a fault whose target resolves to more containers or servers than this. */
  maxTargets?: number | undefined;
}

/** Where the fault names are listed (too many to name in an error). */
export const FAULT_LIST_COMMAND = 'faultline fault list';

/** Faults by name (UNKNOWN_NAME with the nearest known name otherwise), and their parameter check. */
export class FaultRegistry extends Registry<AnyFaultDefinition> {
  constructor(
    definitions: Iterable<AnyFaultDefinition> = [],
    /** The blast radius every fault configured here gets unless it names its own (an experiment's max_targets). */
    private readonly maxTargets?: number,
  ) {
    super('fault', definitions, { seeAlso: FAULT_LIST_COMMAND });
  }

  /** The same faults, each configured with at most `maxTargets` targets (undefined: this registry as it is). */
  limitedTo(maxTargets: number | undefined): FaultRegistry {
    return maxTargets === undefined ? this : new FaultRegistry(this.list(), maxTargets);
  }

  /** Registers every fault of one module. */
  registerAll(definitions: Iterable<AnyFaultDefinition>): this {
    for (const d of definitions) this.register(d);
    return this;
  }

  /** Validates everything the user gave before anything touches the stack. */
  configure(name: string, input: { target?: string | undefined; params?: Record<string, unknown>; maxTargets?: number } = {}): ConfiguredFault {
    const definition = this.get(name);
    const params = parseParams(name, definition.params, input.params ?? {});
    const target = input.target ?? definition.defaultTarget;
    if (target !== undefined) parseTarget(target); // syntax errors now, resolution when planning
    const maxTargets = input.maxTargets ?? this.maxTargets;
    return { definition, target, params, ...(maxTargets === undefined ? {} : { maxTargets }) };
  }
}

/**
 * Every fault faultline knows: the shipped ones, one line per module, and any a program registers before it
 * runs (a new fault is one file and one line here, or one `faults.register(…)` of its own).
 */
export const faults = new FaultRegistry()
  .registerAll(processFaults)
  .registerAll(certificateFaults)
  .registerAll(edgeHttpFaults)
  .registerAll(firewallFaults)
  .registerAll(networkFaults)
  .registerAll(proxyFaults)
  .registerAll(resourceFaults)
  .registerAll(diskFaults)
  .registerAll(nodeFaults);

/** A registry of its own holding every fault registered so far (a command may add to it without changing `faults`). */
export function defaultRegistry(): FaultRegistry {
  return new FaultRegistry(faults.list());
}
