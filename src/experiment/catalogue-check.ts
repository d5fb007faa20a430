// What only the catalogue can tell about an experiment file (fault and probe names, with the nearest known
// one for a typo, their parameters, `during`), and the file order its problems are listed in. Pure.

import { unknownNameMessage } from '../registry.js';
import { FAULT_LIST_COMMAND } from '../faults/registry.js';
import type { Problem } from '../util/zod.js';
import type { Catalogue } from './schema.js';

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const entries = (v: unknown): Array<Record<string, unknown>> =>
  Array.isArray(v) ? v.map((x) => (x && typeof x === 'object' ? (x as Record<string, unknown>) : {})) : [];
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The registries' own message: the nearest known name, else where the names are listed. */
const unknownName = (kind: 'fault' | 'probe', name: string, known: string[]) =>
  unknownNameMessage(kind, name, known, kind === 'fault' ? FAULT_LIST_COMMAND : undefined);

/**
 * What only the catalogue can tell: unknown fault and probe names (with the nearest known one), their
 * parameters, and `during` naming a fault of the method. Works on the raw document, so that these problems
 * are reported together with the schema's, not after them.
 */
export function catalogueProblems(raw: unknown, catalogue: Catalogue): Problem[] {
  const doc = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const faults = catalogue.faultNames();
  const probes = catalogue.probeNames();
  const out: Problem[] = [];
  const params = (e: Record<string, unknown>) =>
    e.params === undefined || (e.params && typeof e.params === 'object' && !Array.isArray(e.params)) ? (e.params ?? {}) : undefined;
  const checkProbe = (e: Record<string, unknown>, path: string) => {
    if (typeof e.probe !== 'string' || !NAME.test(e.probe)) return;
    if (!probes.includes(e.probe)) return out.push({ path: `${path}.probe`, message: unknownName('probe', e.probe, probes) });
    const p = params(e);
    if (p === undefined) return;
    try {
      catalogue.checkProbeParams(e.probe, p);
    } catch (err) {
      out.push({ path: `${path}.params`, message: messageOf(err) });
    }
  };
  entries(doc.steady_state).forEach((e, i) => checkProbe(e, `steady_state[${i}]`));
  entries(doc.stop_when).forEach((e, i) => 'probe' in e && checkProbe(e, `stop_when[${i}]`));
  const method = entries(doc.method);
  method.forEach((e, i) => {
    const path = `method[${i}]`;
    if (!('fault' in e)) {
      checkProbe(e, path);
      if (typeof e.during === 'string' && !method.some((f) => f.fault === e.during))
        out.push({ path: `${path}.during`, message: `no fault "${e.during}" in this method to probe during` });
      return;
    }
    if (typeof e.fault !== 'string' || !NAME.test(e.fault)) return;
    if (!faults.includes(e.fault)) return out.push({ path: `${path}.fault`, message: unknownName('fault', e.fault, faults) });
    const p = params(e);
    if (p === undefined || (e.target !== undefined && typeof e.target !== 'string')) return;
    try {
      catalogue.checkFaultParams(e.fault, p, e.target as string | undefined);
    } catch (err) {
      out.push({ path: `${path}.params`, message: messageOf(err) });
    }
  });
  return out;
}

/** In the file's order: by the top-level field's place in the document, then by field path, indexes numerically. */
export function inFileOrder(problems: Problem[], doc: unknown): Problem[] {
  const fields = doc && typeof doc === 'object' ? Object.keys(doc) : [];
  const rank = (p: string) => {
    const i = fields.indexOf(/^[^.[]*/.exec(p)![0]);
    return i < 0 ? fields.length : i;
  };
  const key = (p: string) => p.replace(/\d+/g, (d) => d.padStart(6, '0'));
  return [...problems].sort((a, b) => rank(a.path) - rank(b.path) || (key(a.path) < key(b.path) ? -1 : key(a.path) > key(b.path) ? 1 : 0));
}
