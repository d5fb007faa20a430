// The suite scorecard: availability, encryption, firewall, monitoring and data safety, each graded from the
// experiments' measured metrics (pure). A category nobody measured says so instead of guessing.

import { runsOf, type ExperimentJournal } from '../experiment/journal.js';
import type { MetricName } from '../metric-table.js';
import { isGrade, worstGrade, type Grade } from '../probes/grade.js';

export interface ScoreRow {
  category: 'availability' | 'encryption' | 'firewall' | 'monitoring' | 'data safety';
  grade: Grade | 'n/a';
  summary: string;
}

const nums = (list: ExperimentJournal[], key: MetricName) =>
  list.map((e) => e.metrics[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

export function scorecard(experiments: ExperimentJournal[]): ScoreRow[] {
  // Every repetition counts as a run: the worst of them is what the stack did.
  const list = experiments.flatMap(runsOf);
  const rows: ScoreRow[] = [];
  const avail = nums(list, 'availability');
  if (avail.length) {
    const worst = Math.min(...avail);
    const grade = worst >= 0.999 ? 'A' : worst >= 0.99 ? 'B' : worst >= 0.95 ? 'C' : worst >= 0.9 ? 'D' : 'F';
    const ttr = nums(list, 'time_to_recover_s');
    rows.push({
      category: 'availability',
      grade,
      summary: `worst availability ${(worst * 100).toFixed(2)}% over ${avail.length} runs${ttr.length ? `; slowest recovery ${Math.max(...ttr).toFixed(1)} s` : ''}`,
    });
  } else rows.push({ category: 'availability', grade: 'n/a', summary: 'no load was measured' });

  const worst = worstGrade(list.map((e) => e.metrics.steady_tls_grade ?? e.metrics.tls_grade).filter(isGrade));
  if (worst) {
    const plaintext = list.some((e) => e.metrics.internal_plaintext === 1);
    const g = worst === 'A' ? (plaintext ? 'B' : 'A') : worst === 'B' || worst === 'C' ? worst : 'F';
    rows.push({ category: 'encryption', grade: g, summary: `worst public TLS grade ${worst}${plaintext ? '; traffic inside the network is plaintext' : ''}` });
  } else rows.push({ category: 'encryption', grade: 'n/a', summary: 'no TLS probe ran' });

  const holes = nums(list, 'steady_exposure_holes');
  const faultHoles = nums(list, 'exposure_holes');
  if (holes.length || faultHoles.length) {
    const steady = holes.reduce((a, b) => a + b, 0);
    rows.push({
      category: 'firewall',
      grade: steady === 0 ? 'A' : 'F',
      summary: `${steady} hole(s) in the healthy stack; ${faultHoles.reduce((a, b) => a + b, 0)} seen while firewall faults were active`,
    });
  } else rows.push({ category: 'firewall', grade: 'n/a', summary: 'no exposure probe ran' });

  const diffs = nums(list, 'qps_difference_ratio');
  if (diffs.length) {
    const worst = Math.max(...diffs.map(Math.abs));
    rows.push({
      category: 'monitoring',
      grade: worst <= 0.05 ? 'A' : worst <= 0.15 ? 'C' : 'F',
      summary: `client and server QPS views differ by at most ${(worst * 100).toFixed(1)}%`,
    });
  } else rows.push({ category: 'monitoring', grade: 'n/a', summary: 'QPS was not compared with monitoring' });

  const lost = nums(list, 'lost_writes');
  if (lost.length) {
    const total = lost.reduce((a, b) => a + b, 0);
    const unexpected = nums(list, 'unexpected_writes').reduce((a, b) => a + b, 0);
    rows.push({
      category: 'data safety',
      grade: total === 0 && unexpected === 0 ? 'A' : 'F',
      summary: `${total} acknowledged write(s) lost, ${unexpected} unexpected, over ${lost.length} checked runs`,
    });
  } else rows.push({ category: 'data safety', grade: 'n/a', summary: 'no write was checked' });
  return rows;
}
