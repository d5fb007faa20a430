// What experiment files may name: the shipped faults and probes, with their parameter checks.

import { defaultRegistry, type FaultRegistry } from '../faults/index.js';
import { PROBES, getProbe, parseProbeParams } from '../probes/index.js';
import type { Catalogue } from './schema.js';
import type { ProbeCatalogue } from './runner.js';

export const probeCatalogue: ProbeCatalogue = { get: getProbe, list: () => [...PROBES] };

export function catalogue(faults: FaultRegistry = defaultRegistry()): Catalogue {
  return {
    faultNames: () => faults.list().map((f) => f.name),
    probeNames: () => PROBES.map((p) => p.name),
    checkFaultParams: (fault, params, target) => {
      faults.configure(fault, { target, params: params as Record<string, unknown> });
    },
    checkProbeParams: (probe, params) => {
      parseProbeParams(probe, getProbe(probe).params, params);
    },
  };
}
