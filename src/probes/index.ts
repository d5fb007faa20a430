// The probes' public API: the Probe/Observation/Tolerance types, the catalogue, runners, pure verdicts and renderers.

export type * from './types.js';
export { SEVERITY_ORDER } from './types.js';
export * from './tolerance.js';
export { runProbe, runContinuously, observation, startMark } from './runner.js';
export type { ContinuousOptions } from './runner.js';
export { parseProbeParams } from './params.js';
export { probes, getProbe } from './registry.js';
export { gradeOf, type Grade } from './grade.js';
export { renderObservation, renderFindings } from './render.js';
export { tlsProbe, gatherTls, publicFindings, judgeTls, TLS_VERSIONS } from './tls.js';
export type { TlsFacts, TlsValue, VersionResult, CertificateFacts } from './tls.js';
export { internalEncryptionProbe, internalFindings, gatherInternal } from './internal-encryption.js';
export type { InternalFacts, InternalEncryptionValue } from './internal-encryption.js';
export { exposureProbe, DEFAULT_PORTS, VANTAGES, allowedBy, judgeExposure, plannedTargets } from './exposure.js';
export type { ExposureCheck, ExposureValue, PolicyRule, Source } from './exposure.js';
export { qpsProbe, compareQps, clientPerSecond, qpsQueries } from './qps.js';
export type { QpsValue, QpsDetails, QpsQueries } from './qps.js';
export { replicationProbe, judgeReplication } from './replication.js';
export type { ReplicationFacts, ReplicationValue } from './replication.js';
export { healthProbe, judgeHealth } from './health.js';
export { recoveryProbe, analyzeRecovery, computeBaseline, RECOVERY_DEFAULTS } from './recovery.js';
export type { RecoveryReport, RecoveryOptions, FaultRecovery, Baseline, RecoveryValue } from './recovery.js';
export { dataLossProbe, checkDataLoss, judgeDataLoss, diverge, waitReplicaCaughtUp } from './data-loss.js';
export type { DataLossResult, DataLossStatus, FinalRead, Divergence } from './data-loss.js';
export { gtidGap, parseGtidPos } from './mysql.js';
