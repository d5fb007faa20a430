// What experiment files may name: the registered faults and probes, with their parameter checks.

import { faults as registeredFaults, type FaultRegistry } from '../faults/index.js';
import { probes, parseProbeParams } from '../probes/index.js';
import type { Registry } from '../registry.js';
import type { AnyProbe } from '../probes/index.js';
import type { Catalogue } from './schema.js';
import type { ProbeCatalogue } from './runner.js';

/** The probes an experiment runs: every registered one. */
export const probeCatalogue: ProbeCatalogue = probes;

/** Without a registry of its own, every fault registered at the time of each lookup (plugins a file names register while it is read). */
export function catalogue(faultRegistry?: FaultRegistry, probeRegistry: Registry<AnyProbe> = probes): Catalogue {
  const faults = () => faultRegistry ?? registeredFaults;
  return {
    faultNames: () => faults().names(),
    probeNames: () => probeRegistry.names(),
    checkFaultParams: (fault, params, target) => {
      faults().configure(fault, { target, params: params as Record<string, unknown> });
    },
    checkProbeParams: (probe, params) => {
      parseProbeParams(probe, probeRegistry.get(probe).params, params);
    },
  };
}
