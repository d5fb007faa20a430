// The probe catalogue, by name.

import { FaultlineError } from '../errors.js';
import { clusterProbe } from './cluster.js';
import { dataLossProbe } from './data-loss.js';
import { exposureProbe } from './exposure.js';
import { healthProbe } from './health.js';
import { internalEncryptionProbe } from './internal-encryption.js';
import { qpsProbe } from './qps.js';
import { recoveryProbe } from './recovery.js';
import { replicationProbe } from './replication.js';
import { tlsProbe } from './tls.js';
import { tlsDeclarations } from './tls-metrics.js';
import type { AnyProbe } from './types.js';

/** The TLS probe with what it contributes to experiments (declared beside it, in tls-metrics.ts). */
const declaredTlsProbe: AnyProbe = { ...tlsProbe, ...tlsDeclarations };

export const PROBES: readonly AnyProbe[] = [
  declaredTlsProbe,
  internalEncryptionProbe,
  exposureProbe,
  qpsProbe,
  replicationProbe,
  clusterProbe,
  healthProbe,
  recoveryProbe,
  dataLossProbe,
];

export function getProbe(name: string): AnyProbe {
  const p = PROBES.find((x) => x.name === name);
  if (!p) throw new FaultlineError('INVALID_INPUT', `probe: unknown probe "${name}" (one of ${PROBES.map((x) => x.name).join(', ')})`);
  return p;
}
