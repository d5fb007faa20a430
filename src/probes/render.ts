// Human-readable rendering of observations: the frame every probe shares (verdict line, findings); the lines
// in between are the probe's own `render`, looked up by the observation's probe name.

import { formatDuration } from '../util/duration.js';
import { bySeverity } from './grade.js';
import { probes } from './registry.js';
import { describeTolerance } from './tolerance.js';
import type { AnyProbe, Finding, Observation } from './types.js';

export function renderFindings(findings: Finding[]): string[] {
  return bySeverity(findings).map((f) => `  [${f.severity}] ${f.id}: ${f.message}${f.where ? `  (${f.where})` : ''}`);
}

/** The whole observation as text: verdict line, the probe's own lines (its value as JSON if it has no renderer), findings. */
export function renderObservation(o: Observation, probe: AnyProbe | undefined = probes.has(o.probe) ? probes.get(o.probe) : undefined): string {
  const verdict = o.error ? 'ERROR' : o.passed ? 'passed' : 'FAILED';
  const tol = o.tolerance ? ` (tolerance ${describeTolerance(o.tolerance)})` : '';
  const lines = [`probe ${o.probe}: ${verdict}${tol}  [${o.timestamp}, ${formatDuration(o.durationMs)}]`];
  if (o.error) {
    lines.push(`  ${o.error.code}: ${o.error.message}`);
    return lines.join('\n');
  }
  const body = probe?.render?.(o) ?? [`value ${JSON.stringify(o.value)}`];
  lines.push(...body.map((l) => `  ${l}`));
  const inside = o.findings.filter((f) => f.scope === 'internal');
  const rest = o.findings.filter((f) => f.scope !== 'internal');
  if (rest.length) {
    lines.push(inside.length ? 'findings (public):' : 'findings:');
    lines.push(...renderFindings(rest));
  }
  if (inside.length) {
    lines.push(probe?.insideFindingsTitle ?? 'findings:');
    lines.push(...renderFindings(inside));
  }
  return lines.join('\n');
}
