// Text for people: a progress line per second, one summary line (CI), a short block (terminal).
// Pure functions from data to string, so they are trivial to test and any front end can reuse them.

import type { LatencySummary, LoadResult, LoadTick } from './types.js';

function ms(v: number | null): string {
  if (v === null) return '–';
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

function num(n: number): string {
  return Math.round(n).toString();
}

function pct(ratio: number | null): string {
  return ratio === null ? '–' : `${(ratio * 100).toFixed(2)}%`;
}

function counts(rec: Record<string, number>, limit = 6): string {
  const entries = Object.entries(rec).sort((a, b) => b[1] - a[1]);
  const shown = entries.slice(0, limit).map(([k, v]) => `${k} ×${v}`);
  if (entries.length > limit) shown.push(`… ${entries.length - limit} more`);
  return shown.join(', ');
}

function latencyLine(l: LatencySummary): string {
  if (l.count === 0) return 'no responses';
  return `p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}`;
}

function describeLoad(r: LoadResult): string {
  if (r.driver === 'closed') {
    const p = r.options.pipelining > 1 ? ` × ${r.options.pipelining} pipelined` : '';
    return `closed ${r.options.connections} connections${p}`;
  }
  const stages = r.options.stages;
  const first = stages[0];
  const last = stages[stages.length - 1];
  if (stages.length === 1 && first && first.from === first.to) return `paced ${first.from} req/s`;
  return `paced ${first?.from ?? 0}..${last?.to ?? 0} req/s`;
}

/** One line per second while load runs. */
export function formatTick(t: LoadTick): string {
  const parts = [`${String(t.second).padStart(4)}s`, `${num(t.sent).padStart(6)} req/s`, `ok ${num(t.successes).padStart(6)}`, `errors ${num(t.errors)}`];
  if (t.failedResponses > 0) parts.push(`non-2xx/3xx ${t.failedResponses}`);
  if (t.dropped > 0) parts.push(`dropped ${t.dropped}`);
  parts.push(`p99 ${ms(t.p99Ms)}`, `in flight ${t.inFlight}`);
  if (t.faults.length > 0) parts.push(`[fault: ${t.faults.join(', ')}]`);
  if (t.waitingUntilMs !== null && t.inFlight > 0) {
    const left = Math.max(0, (t.waitingUntilMs - t.elapsedMs) / 1000);
    parts.push(`sending done; waiting for ${t.inFlight} in flight, at most ${left.toFixed(1)} s more (their deadlines)`);
  }
  return parts.join('  ');
}

/** The single line a CI log gets. */
export function formatResultLine(r: LoadResult): string {
  const s = r.summary;
  const errs = s.errors > 0 ? ` (${counts(s.errorCodes, 3)})` : '';
  const okRatio = s.errorRatio === null ? null : 1 - s.errorRatio;
  return (
    `faultline load ${describeLoad(r)} ${r.options.url}: ${s.sent} requests in ${(s.durationMs / 1000).toFixed(1)} s ` +
    `(${s.rate.toFixed(0)} req/s), ${pct(okRatio)} ok, ${s.errors} errors${errs}, ${s.timedOut} timed out, ` +
    `${(s.late ?? 0) > 0 ? `${s.late} late, ` : ''}dropped ${s.dropped}, p50 ${ms(s.latency.p50)}, p99 ${ms(s.latency.p99)}` +
    (r.stopReason === 'completed' ? '' : ` [${r.stopReason}]`)
  );
}

/** The block a terminal gets after the progress lines. */
export function formatResult(r: LoadResult): string {
  const s = r.summary;
  const lines: string[] = [];
  lines.push(`faultline load: ${describeLoad(r)} → ${r.options.url}  (run ${r.runId})`);
  lines.push(`  duration     ${(s.durationMs / 1000).toFixed(2)} s (${r.stopReason})`);
  lines.push(
    `  requests     ${s.intended} intended: ${s.successes} ok (${pct(s.availability)}), ${s.responses - s.successes} failed by status, ` +
      `${s.errors - s.timedOut - (s.late ?? 0)} failed by error, ${s.timedOut} timed out, ` +
      `${r.driver === 'paced' ? `${s.late ?? 0} late (not on the wire within ${r.options.lateAfterMs} ms), ` : ''}${s.dropped} dropped`,
  );
  lines.push(`  rate         ${s.rate.toFixed(1)} req/s sent, ${s.successRate.toFixed(1)} ok/s`);
  if (Object.keys(s.statuses).length > 0) lines.push(`  statuses     ${counts(s.statuses)}`);
  if (s.errors > 0) lines.push(`  errors       ${counts(s.errorCodes)}`);
  const from = r.driver === 'paced' ? '  (from intended send time)' : '';
  const censored = s.timedOut > 0 ? `; ${s.timedOut} timed out counted at their deadline` : '';
  lines.push(`  latency      ${latencyLine(s.latency)}${from}${censored}`);
  if (s.uncorrected) lines.push(`  uncorrected  ${latencyLine(s.uncorrected)}  (answered only, from actual send; hides queueing and hangs)`);
  if (r.schedule) {
    const sc = r.schedule;
    const wire = sc.wireLag ? `, wire lag p50 ${ms(sc.wireLag.p50)} p99 ${ms(sc.wireLag.p99)} max ${ms(sc.wireLag.max)}` : '';
    lines.push(
      `  schedule     target ${sc.targetRate.toFixed(1)} req/s, achieved ${sc.achievedRate.toFixed(1)} req/s, ` +
        `send lag p50 ${ms(sc.lag.p50)} p99 ${ms(sc.lag.p99)}${wire}  (wire lag: intended time → on the wire)`,
    );
  }
  const c = r.ledger.counts();
  if (c.attempted > 0) {
    lines.push(`  writes       ${c.attempted} sent: ${c.ok} ok, ${c.fail} failed, ${c.unknown} unknown  (keys ${r.ledger.likePattern()})`);
  }
  if (r.faults.length > 0) {
    const f = r.faults.map((m) => `${m.name} ${(m.startMs / 1000).toFixed(2)}–${m.endMs === null ? '…' : (m.endMs / 1000).toFixed(2)} s`);
    lines.push(`  faults       ${f.join(', ')}`);
  }
  if (r.options.insecure) lines.push('  tls          certificate NOT verified (--insecure)');
  return lines.join('\n');
}
