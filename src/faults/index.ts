// The fault API: a catalogue of faults that take effect on a live stack and are reverted whatever happens.
export * from './types.js';
export { FaultRegistry, defaultRegistry, faults, type ConfiguredFault } from './registry.js';
export {
  createFaultContext,
  deadMansSwitchMs,
  injectFault,
  holdFault,
  MAX_HOLD_EXTENSION_MS,
  planFault,
  revertRecord,
  revertRecorded,
  type RevertSummary,
} from './engine.js';
export { FaultStore } from './state-store.js';
export { parseTarget, resolveContainers, resolveServers } from './targets.js';
export { formatCatalogue, formatPlan, formatRecords, formatRevertSummary } from './format.js';
export { handshake, legacyHandshake, signatureAlgorithm } from './tls-check.js';
export { LB_FILES } from './certificate-faults.js';
export { redactSecrets, REDACTED } from './redact.js';
