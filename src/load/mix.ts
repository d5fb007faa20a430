// Workload mixes: parse "read=9,write=1" and pick kinds in exact proportion (smooth weighted round robin, no randomness,
// so two runs with the same mix send the same sequence).

import { invalidInput } from '../errors.js';
import type { MixEntry, MixKind } from './types.js';

export const MIX_KINDS: readonly MixKind[] = ['read', 'whoami', 'write'];

function isMixKind(s: string): s is MixKind {
  return (MIX_KINDS as readonly string[]).includes(s);
}

/** Parses "read=9,write=1" (weights are positive integers; a bare kind means weight 1). Throws INVALID_INPUT. */
export function parseMix(spec: string, field = 'mix'): MixEntry[] {
  const trimmed = spec.trim();
  if (trimmed === '') throw invalidInput(field, `empty; expected e.g. read=9,write=1 (kinds: ${MIX_KINDS.join(', ')})`);
  const entries: MixEntry[] = [];
  for (const part of trimmed.split(',')) {
    const m = /^\s*([a-zA-Z]+)\s*(?:=\s*(\S+)\s*)?$/.exec(part);
    if (!m) throw invalidInput(field, `cannot read ${JSON.stringify(part.trim())}; expected kind=weight, e.g. read=9`);
    const kind = (m[1] ?? '').toLowerCase();
    if (!isMixKind(kind)) throw invalidInput(field, `unknown kind ${JSON.stringify(m[1])} (kinds: ${MIX_KINDS.join(', ')})`);
    const weightText = m[2] ?? '1';
    if (!/^\d+$/.test(weightText)) throw invalidInput(field, `weight of ${kind} must be a whole number, got ${JSON.stringify(weightText)}`);
    entries.push({ kind, weight: Number(weightText) });
  }
  return validateMix(entries, field);
}

/** Checks parsed entries (also those a library caller passes directly). */
export function validateMix(entries: readonly MixEntry[], field = 'mix'): MixEntry[] {
  if (entries.length === 0) throw invalidInput(field, 'needs at least one kind');
  const seen = new Set<string>();
  for (const e of entries) {
    if (!isMixKind(e.kind)) throw invalidInput(field, `unknown kind ${JSON.stringify(e.kind)} (kinds: ${MIX_KINDS.join(', ')})`);
    if (seen.has(e.kind)) throw invalidInput(field, `${e.kind} is given twice`);
    seen.add(e.kind);
    if (!Number.isSafeInteger(e.weight) || e.weight < 0 || e.weight > 1_000_000) {
      throw invalidInput(field, `weight of ${e.kind} must be a whole number from 0 to 1000000, got ${e.weight}`);
    }
  }
  if (entries.every((e) => e.weight === 0)) throw invalidInput(field, 'all weights are 0');
  return entries.filter((e) => e.weight > 0).map((e) => ({ ...e }));
}

export function formatMix(entries: readonly MixEntry[]): string {
  return entries.map((e) => `${e.kind}=${e.weight}`).join(',');
}

/**
 * Smooth weighted round robin (as nginx does it): over any sum(weights) consecutive picks each kind comes
 * exactly `weight` times, spread out rather than in runs.
 */
export class MixSelector {
  private readonly kinds: MixKind[];
  private readonly weights: number[];
  private readonly current: number[];
  private readonly total: number;

  constructor(entries: readonly MixEntry[]) {
    const valid = validateMix(entries);
    this.kinds = valid.map((e) => e.kind);
    this.weights = valid.map((e) => e.weight);
    this.current = valid.map(() => 0);
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }

  next(): MixKind {
    let best = 0;
    for (let i = 0; i < this.kinds.length; i++) {
      this.current[i] = (this.current[i] as number) + (this.weights[i] as number);
      if ((this.current[i] as number) > (this.current[best] as number)) best = i;
    }
    this.current[best] = (this.current[best] as number) - this.total;
    return this.kinds[best] as MixKind;
  }
}
