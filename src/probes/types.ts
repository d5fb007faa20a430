// The shapes every probe shares: a Probe (name, validated params, run, how its observation reads and what it
// contributes to experiments), the Observation it returns, and the findings (with severities) that TLS and
// exposure probes attach as evidence.

import type { z } from 'zod';
import type { ContainerEngine } from '../stack/engine.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { Timeline } from '../load/timeline.js';
import type { WriteLedger } from '../load/ledger.js';
import type { FaultWindow } from '../load/types.js';
import type { Clock } from '../util/retry.js';
import type { MetricName, MetricValue } from '../metric-table.js';
import type { Tolerance } from './tolerance.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** One thing a probe noticed, with a stable id (e.g. "cert-expired", "hole") that tests and reports key on. */
export interface Finding {
  id: string;
  severity: Severity;
  message: string;
  /** Where it was seen (endpoint, vantage → server:port, hop). */
  where?: string;
  /** TLS findings: the public endpoint, or hops inside the stack (graded separately). */
  scope?: 'public' | 'internal';
}

/** When a fault was on (the load job's record of it, src/load/types.ts). */
export type { FaultWindow };

/** What a probe may use: the stack, Docker, and the load engine's results when an experiment has them. */
export interface ProbeContext {
  stack: AttachedStack;
  docker: ContainerEngine;
  /** The load run being judged (QPS client view, recovery, data loss). */
  timeline?: Timeline;
  ledger?: WriteLedger;
  faults?: FaultWindow[];
  clock?: Clock;
  log?: (line: string) => void;
}

/** A probe's record of one look: the measured value, the verdict and the evidence. */
export interface Observation<V = unknown> {
  probe: string;
  /** ISO 8601 time the look started. */
  timestamp: string;
  durationMs: number;
  /** The headline figure the tolerance is matched against. */
  value: V;
  passed: boolean;
  /** The tolerance that was applied, as data (for the journal). */
  tolerance: Tolerance | null;
  /** Probe-specific evidence (per-server figures, raw facts). */
  details: Record<string, unknown>;
  findings: Finding[];
  /** Set when the probe could not look at all (environment error); passed is then false. */
  error?: { code: string; message: string };
}

/** One look of a probe as an experiment keeps it: a single observation, or one of a series (`every`). */
export interface Look<V = unknown> {
  value: V;
  findings: Finding[];
  /** What the probe's `evidence` took from the observation (its details are not kept for a series). */
  evidence?: unknown;
}

/** A run metric a probe's looks show; the judge keeps the worst over the looks, in the metric table's direction. */
export interface MetricContribution<V = unknown> {
  metric: MetricName;
  /**
   * Which looks count: `run` the method's (the steady state's before it when the method had none of this
   * probe), `steady` the steady state's before the method, `all` both.
   */
  over: 'run' | 'steady' | 'all';
  /** null when this look does not show it. */
  of(look: Look<V>): MetricValue;
}

/** What the journal's findings keep of a probe: taken from its worst look by `worstBy` (method first, then steady state). */
export interface Evidence<V = unknown> {
  /** The key under the journal's findings ("tls", "exposure"). */
  key: string;
  worstBy: MetricName;
  of(o: Pick<Observation<V>, 'value' | 'findings' | 'details'>): unknown;
}

/** How a probe's observations feed an experiment (its headline, the metrics and the evidence it contributes) and read. */
export interface ProbeDeclarations<V = unknown> {
  /** The probe's own lines between the verdict and the findings (without it, the value as JSON). Pure. */
  readonly render?: (o: Observation<V>) => string[];
  /** How findings inside the stack are headed (TLS grades them apart from the endpoint's); "findings:" by default. */
  readonly insideFindingsTitle?: string;
  /** The scalar a step's tolerance is matched against (the value itself when absent). */
  readonly headline?: (value: V) => unknown;
  readonly metrics?: ReadonlyArray<MetricContribution<V>>;
  readonly evidence?: Evidence<V>;
}

export interface Probe<P = unknown, V = unknown> extends ProbeDeclarations<V> {
  readonly name: string;
  readonly description: string;
  /** Parses parameters (CLI strings or typed values); errors name the field. */
  readonly params: z.ZodType<P, z.ZodTypeDef, unknown>;
  run(ctx: ProbeContext, params: P, signal: AbortSignal): Promise<Observation<V>>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProbe = Probe<any, any>;
