// The shapes every fault shares: a definition (name, schema, plan/apply/revert/check), the record that makes
// a fault revertible from a fresh process, and the live handle (ActiveFault) that callers hold.

import { z } from 'zod';
import type { ContainerEngine } from '../stack/engine.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { FaultStore } from './state-store.js';

export type FaultKind = 'process' | 'certificate' | 'firewall' | 'network' | 'resource';

/** A container a fault acts on, as it was when the fault was planned. */
export const targetRefSchema = z.object({
  id: z.string(),
  name: z.string(),
  service: z.string(),
  server: z.string().optional(),
  component: z.string().optional(),
  /** The swarm node a task runs on (its id is then `<container id>@<node>`); absent for a compose stack's container. */
  node: z.string().optional(),
});
export type TargetRef = z.infer<typeof targetRefSchema>;

export interface FaultContext {
  stack: AttachedStack;
  /** The stack's engine; on a swarm, each call on a task goes to the engine of the node it runs on. */
  docker: ContainerEngine;
  store: FaultStore;
  log: (line: string) => void;
  /** Used by `random:` selectors; tests replace it. */
  random: () => number;
  /**
   * Upper bound for anything a fault leaves running by itself (helpers, stress-ng): if faultline dies, a
   * helper undoes its own effect after this long even before `faultline revert` runs.
   */
  maxDurationMs: number;
}

/** What planning found: the targets, what would be done (for --dry-run), and what revert will need. */
export interface FaultPlan<D = unknown> {
  targets: TargetRef[];
  /** Human steps, in order; printed by --dry-run. */
  steps: string[];
  /** Resources this fault occupies (e.g. "lb:certificate", "web1:netem"); two active faults may not share one. */
  slots: string[];
  data: D;
}

/**
 * Persisted in <stateDir>/faults.json before the fault takes effect; removed only after revert succeeded.
 * The schema is what the state store checks on reading; the type is derived from it.
 */
export const faultRecordSchema = z.object({
  id: z.string(),
  fault: z.string(),
  stack: z.string(),
  params: z.unknown(),
  targets: z.array(targetRefSchema),
  slots: z.array(z.string()),
  steps: z.array(z.string()),
  status: z.enum(['injecting', 'active', 'reverting']),
  createdAt: z.string(),
  /** The plugin file that registered this fault (absent for a built-in): `faultline revert` loads it to undo the fault. */
  plugin: z.string().optional(),
  /** The process holding the fault; `faultline revert` (without --all) only takes faults whose holder is gone. */
  pid: z.number(),
  hostname: z.string(),
  /** The holder's start time (see processStart): a reused pid is not taken for the holder. */
  pidStart: z.string().optional(),
  /** When the holder means to revert, if it said. */
  until: z.string().optional(),
  /** The fault's own data, checked by its definition's `data` schema. */
  data: z.unknown(),
});

export type FaultRecord<D = unknown> = Omit<z.infer<typeof faultRecordSchema>, 'params' | 'data'> & { params: unknown; data: D };

export interface FaultCheck {
  active: boolean;
  detail: string;
}

/** Lets apply() add what it learns while acting (helper ids) to the record, before relying on it. */
export type RecordUpdate<D> = (patch: Partial<D>) => Promise<void>;

export interface FaultDefinition<P = unknown, D = unknown> {
  readonly name: string;
  readonly kind: FaultKind;
  readonly description: string;
  /** Target expression used when the caller gives none; undefined means a target is required. */
  readonly defaultTarget?: string | undefined;
  /** Parses user parameters (strings from the CLI, or typed values); errors name the field. */
  readonly params: z.ZodType<P, z.ZodTypeDef, unknown>;
  /** Parses the record's data when it is read back from the state file. */
  readonly data: z.ZodType<D, z.ZodTypeDef, unknown>;
  /** Resolves targets and captures everything revert needs; changes nothing. */
  plan(ctx: FaultContext, target: string | undefined, params: P, signal: AbortSignal): Promise<FaultPlan<D>>;
  /** Makes the fault take effect and returns once it is observable. */
  apply(ctx: FaultContext, record: FaultRecord<D>, update: RecordUpdate<D>, signal: AbortSignal): Promise<void>;
  /** Undoes it from the record alone (works in a fresh process); idempotent; verifies the stack is back. */
  revert(ctx: FaultContext, record: FaultRecord<D>, signal: AbortSignal): Promise<void>;
  /** Tells whether the fault is in effect right now. */
  check(ctx: FaultContext, record: FaultRecord<D>, signal: AbortSignal): Promise<FaultCheck>;
}

/** A fault in effect. revert() is idempotent and never uses an aborted signal of the caller's. */
export interface ActiveFault {
  readonly id: string;
  readonly name: string;
  readonly record: FaultRecord;
  /** True once revert() has succeeded (or another process reverted it). */
  readonly reverted: boolean;
  check(signal?: AbortSignal): Promise<FaultCheck>;
  revert(signal?: AbortSignal): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFaultDefinition = FaultDefinition<any, any>;
