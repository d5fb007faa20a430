// The probe catalogue: one registration line per probe module. A probe carries everything about itself (its
// parameters, its look, how its observation reads, what it contributes to experiments), so this is the only list.

import { Registry } from '../registry.js';
import { clusterProbe } from './cluster.js';
import { dataLossProbe } from './data-loss.js';
import { exposureProbe } from './exposure.js';
import { healthProbe } from './health.js';
import { httpProbe } from './http.js';
import { internalEncryptionProbe } from './internal-encryption.js';
import { promqlProbe } from './promql.js';
import { qpsProbe } from './qps.js';
import { recoveryProbe } from './recovery.js';
import { replicationProbe } from './replication.js';
import { tlsProbe } from './tls.js';
import type { AnyProbe } from './types.js';

/** Every probe faultline knows: the shipped ones, and any a program registers (`probes.register(…)`) before it runs. */
export const probes = new Registry<AnyProbe>('probe')
  .register(tlsProbe)
  .register(internalEncryptionProbe)
  .register(exposureProbe)
  .register(qpsProbe)
  .register(replicationProbe)
  .register(clusterProbe)
  .register(healthProbe)
  .register(recoveryProbe)
  .register(dataLossProbe)
  .register(httpProbe)
  .register(promqlProbe);

/** The probe called `name`; UNKNOWN_NAME (exit 2) with the nearest known name otherwise. */
export function getProbe(name: string): AnyProbe {
  return probes.get(name);
}
