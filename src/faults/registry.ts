// The catalogue by name: looks faults up (UNKNOWN_FAULT with the list of names), validates parameters
// once at the edge, and hands out configured faults ready to plan or inject.

import { FaultlineError } from '../errors.js';
import { certificateFaults } from './certificate-faults.js';
import { firewallFaults } from './firewall-faults.js';
import { networkFaults } from './network-faults.js';
import { parseParams } from './params.js';
import { processFaults } from './process-faults.js';
import { resourceFaults } from './resource-faults.js';
import { parseTarget } from './targets.js';
import type { AnyFaultDefinition } from './types.js';

/** A definition with validated parameters and target: what inject() and --dry-run work on. */
export interface ConfiguredFault {
  definition: AnyFaultDefinition;
  target: string | undefined;
  params: unknown;
}

export class FaultRegistry {
  private readonly byName = new Map<string, AnyFaultDefinition>();

  constructor(definitions: AnyFaultDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  register(definition: AnyFaultDefinition): this {
    if (this.byName.has(definition.name)) throw new FaultlineError('INTERNAL', `fault ${definition.name} is registered twice`);
    this.byName.set(definition.name, definition);
    return this;
  }

  list(): AnyFaultDefinition[] {
    return [...this.byName.values()];
  }

  get(name: string): AnyFaultDefinition {
    const d = this.byName.get(name);
    if (!d) {
      const near = this.list()
        .filter((x) => x.name.includes(name) || name.includes(x.name.split('-')[0] ?? ''))
        .map((x) => x.name);
      throw new FaultlineError('UNKNOWN_FAULT', `unknown fault "${name}"`, {
        hint: `${near.length ? `did you mean ${near.join(', ')}? ` : ''}see \`faultline fault list\``,
      });
    }
    return d;
  }

  /** Validates everything the user gave before anything touches the stack. */
  configure(name: string, input: { target?: string | undefined; params?: Record<string, unknown> } = {}): ConfiguredFault {
    const definition = this.get(name);
    const params = parseParams(name, definition.params, input.params ?? {});
    const target = input.target ?? definition.defaultTarget;
    if (target !== undefined) parseTarget(target); // syntax errors now, resolution when planning
    return { definition, target, params };
  }
}

/** Every fault faultline ships. */
export function defaultRegistry(): FaultRegistry {
  return new FaultRegistry([...processFaults, ...certificateFaults, ...firewallFaults, ...networkFaults, ...resourceFaults] as AnyFaultDefinition[]);
}
