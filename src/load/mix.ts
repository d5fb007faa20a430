// Workload mixes: parse "read=9,write=1" over a workload's request names and pick them in exact proportion (smooth
// weighted round robin, no randomness, so two runs with the same mix send the same sequence).

import { invalidInput } from '../errors.js';
import { REFERENCE_REQUESTS, REQUEST_NAME } from './workload-spec.js';
import type { MixEntry, MixKind } from './types.js';

/** The reference preset's request names: what a mix may name when no workload is given. */
export const MIX_KINDS: readonly MixKind[] = Object.keys(REFERENCE_REQUESTS).sort();

function known(names: readonly string[]): string {
  return names.length ? names.join(', ') : 'none';
}

/**
 * The one mix grammar, wherever a mix is written (--mix, an experiment's load.mix, a workload's mix): "read=9,write=1",
 * weights whole numbers, a bare name meaning weight 1, names in any case (read as lowercase). `names`: the requests the
 * mix may name; null when they are not known yet (an experiment run against a stack's workload), then only the form is
 * checked. Answers the entries, or what is wrong with them (without the field's name).
 */
export function readMix(spec: string, names: readonly string[] | null): MixEntry[] | string {
  const example = names?.[0] ?? 'read';
  const trimmed = spec.trim();
  if (trimmed === '') return `empty; expected name=weight pairs such as ${example}=9${names ? ` (requests: ${known(names)})` : ''}`;
  const entries: MixEntry[] = [];
  for (const part of trimmed.split(',')) {
    const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(?:=\s*(\S+)\s*)?$/.exec(part);
    if (!m) return `cannot read ${JSON.stringify(part.trim())}; expected name=weight, e.g. ${example}=9`;
    const kind = (m[1] ?? '').toLowerCase();
    const weightText = m[2] ?? '1';
    if (!/^\d+$/.test(weightText)) return `weight of ${kind} must be a whole number, got ${JSON.stringify(weightText)}`;
    entries.push({ kind, weight: Number(weightText) });
  }
  return checkMix(entries, names);
}

/** What is wrong with parsed entries, or the entries of weight above 0 (copies); `names` as for readMix. */
export function checkMix(entries: readonly MixEntry[], names: readonly string[] | null): MixEntry[] | string {
  if (entries.length === 0) return 'needs at least one request';
  const seen = new Set<string>();
  for (const e of entries) {
    if (typeof e.kind !== 'string' || !REQUEST_NAME.test(e.kind)) return `${JSON.stringify(e.kind)} is not a request name (lowercase letters, digits, - or _)`;
    if (names && !names.includes(e.kind)) return `unknown request ${JSON.stringify(e.kind)} (requests: ${known(names)})`;
    if (seen.has(e.kind)) return `${e.kind} is given twice`;
    seen.add(e.kind);
    if (!Number.isSafeInteger(e.weight) || e.weight < 0 || e.weight > 1_000_000)
      return `weight of ${e.kind} must be a whole number from 0 to 1000000, got ${e.weight}`;
  }
  if (entries.every((e) => e.weight === 0)) return 'all weights are 0';
  return entries.filter((e) => e.weight > 0).map((e) => ({ ...e }));
}

function orThrow(result: MixEntry[] | string, field: string): MixEntry[] {
  if (typeof result === 'string') throw invalidInput(field, result);
  return result;
}

/**
 * Parses a mix (readMix's grammar) and checks every name against `names` (the workload's requests; default the reference
 * preset's). Throws INVALID_INPUT naming `field`.
 */
export function parseMix(spec: string, field = 'mix', names: readonly string[] = MIX_KINDS): MixEntry[] {
  return orThrow(readMix(spec, names), field);
}

/**
 * Checks parsed entries (also those a library caller passes directly); `names`: the requests they may name (without
 * it, only the form of each name is checked). Entries of weight 0 are dropped.
 */
export function validateMix(entries: readonly MixEntry[], field = 'mix', names?: readonly string[]): MixEntry[] {
  return orThrow(checkMix(entries, names ?? null), field);
}

export function formatMix(entries: readonly MixEntry[]): string {
  return entries.map((e) => `${e.kind}=${e.weight}`).join(',');
}

/**
 * Smooth weighted round robin (as nginx does it): over any sum(weights) consecutive picks each name comes
 * exactly `weight` times, spread out rather than in runs.
 */
export class MixSelector {
  /** The names picked from, in the order nextIndex() refers to. */
  readonly names: readonly MixKind[];
  private readonly weights: number[];
  private readonly current: number[];
  private readonly total: number;

  constructor(entries: readonly MixEntry[]) {
    const valid = validateMix(entries);
    this.names = valid.map((e) => e.kind);
    this.weights = valid.map((e) => e.weight);
    this.current = valid.map(() => 0);
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }

  /** The next pick as an index into `names` (what the workload keeps its compiled requests by). */
  nextIndex(): number {
    let best = 0;
    for (let i = 0; i < this.names.length; i++) {
      this.current[i] = (this.current[i] as number) + (this.weights[i] as number);
      if ((this.current[i] as number) > (this.current[best] as number)) best = i;
    }
    this.current[best] = (this.current[best] as number) - this.total;
    return best;
  }

  next(): MixKind {
    return this.names[this.nextIndex()] as MixKind;
  }
}
