// Total-hang truth (issue 21, item 1): a server in a process of its own answers nothing for requests ARRIVING in a
// window of its clock; the truth is the share of requests INTENDED in the window (from the schedule). Four cases
// (hang 4 s and 12 s, at 300 and 2 000 req/s): faultline paced (reported error ratio vs truth in pp, late counts, the
// wire-lag p99 during the hang) beside bare autocannon (its --overallRate, the same rate, timeout and server) measured
// in the same run as the reference. Run: node --import=tsx bench/hang-truth.ts   (BENCH_CASES=300:4,2000:12 picks)

import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import { runLoad, startLoad } from '../src/load/index.js';
import { RateSchedule } from '../src/load/schedule.js';
import { sleep, startHangServer } from '../test/load/_support.js';

const EDGE_MS = 1500;
const TIMEOUT_MS = 2000;
/** autocannon's connections: as a user would run it; with fewer than rate × timeout it cannot keep the rate in a hang. */
const AUTOCANNON_CONNECTIONS = Number(process.env.BENCH_AUTOCANNON_CONNECTIONS ?? 100);
const CASES = (process.env.BENCH_CASES ?? '300:4,300:12,2000:4,2000:12').split(',').map((c) => {
  const [rate, hang] = c.split(':').map(Number);
  return { rate: rate as number, hangMs: (hang as number) * 1000 };
});

export interface HangRow {
  client: string;
  rate: number;
  hangMs: number;
  truth: number;
  reported: number | null;
  late: number | null;
  lateOutside: number | null;
  wireP99Ms: number | null;
  note: string;
}

function intendedShare(rate: number, durationMs: number, fromMs: number, toMs: number): number {
  const schedule = new RateSchedule([{ durationMs, from: rate, to: rate }]);
  let inside = 0;
  for (let i = 0; i < schedule.total; i++) {
    const t = schedule.timeOf(i);
    if (t >= fromMs && t < toMs) inside += 1;
  }
  return inside / schedule.total;
}

async function faultline(rate: number, hangMs: number): Promise<HangRow> {
  const server = await startHangServer();
  try {
    const durationMs = EDGE_MS + hangMs + EDGE_MS;
    const maxInFlight = Math.ceil((rate * TIMEOUT_MS * 1.5) / 1000) + 500;
    await runLoad({ url: server.url, rate, durationMs: 300, maxInFlight });
    const originMs = performance.timeOrigin + performance.now() + 300;
    server.hangBetween(originMs + EDGE_MS, originMs + EDGE_MS + hangMs);
    const r = await startLoad({ url: server.url, rate, durationMs, timeoutMs: TIMEOUT_MS, maxInFlight }, { originMs }).result;
    const s = r.summary;
    const inside = r.timeline.window(EDGE_MS, EDGE_MS + hangMs);
    return {
      client: 'faultline paced',
      rate,
      hangMs,
      truth: intendedShare(rate, durationMs, EDGE_MS, EDGE_MS + hangMs),
      reported: s.errorRatio,
      late: s.late,
      lateOutside: s.late - inside.late,
      wireP99Ms: inside.wireLag.p99,
      note: `ok ${s.successes}, timed out ${s.timedOut}, dropped ${s.dropped}; send lag p99 ${r.schedule?.lag.p99} ms`,
    };
  } finally {
    await server.close();
  }
}

async function bareAutocannon(rate: number, hangMs: number): Promise<HangRow> {
  const server = await startHangServer();
  try {
    const durationMs = EDGE_MS + hangMs + EDGE_MS;
    const startAt = performance.timeOrigin + performance.now();
    server.hangBetween(startAt + EDGE_MS, startAt + EDGE_MS + hangMs);
    const result = await autocannon({
      url: server.url,
      connections: AUTOCANNON_CONNECTIONS,
      overallRate: rate,
      duration: durationMs / 1000,
      timeout: TIMEOUT_MS / 1000,
    });
    // What a user reads off it: non-2xx, errors and timeouts over everything it counted.
    const ok = result['2xx'];
    const counted = result.requests.total + result.errors;
    return {
      client: `autocannon -c ${AUTOCANNON_CONNECTIONS} -R ${rate}`,
      rate,
      hangMs,
      // autocannon's own schedule is `rate` per second over the run (bursts at each second's start).
      truth: hangMs / durationMs,
      reported: counted > 0 ? (counted - ok) / counted : null,
      late: null,
      lateOutside: null,
      wireP99Ms: null,
      note: `sent ${result.requests.sent} of ${Math.round((rate * durationMs) / 1000)} intended, 2xx ${ok}, errors ${result.errors}, timeouts ${result.timeouts}`,
    };
  } finally {
    await server.close();
  }
}

const pp = (a: number | null, b: number) => (a === null ? '–' : `${((a - b) * 100).toFixed(2)}`);
const ratio = (v: number | null) => (v === null ? '–' : v.toFixed(4));

export async function hangTruth(log: (line: string) => void = console.log): Promise<HangRow[]> {
  log(`\n## total hang truth: server answers nothing for requests arriving in the hang; truth = share intended in it`);
  log(`(${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)} at start; timeout ${TIMEOUT_MS / 1000} s, ${EDGE_MS / 1000} s of load either side)`);
  log('| rate | hang | client | truth | reported | reported − truth (pp) | late (outside the hang) | wire lag p99 in the hang | notes |');
  log('|---:|---:|---|---:|---:|---:|---:|---:|---|');
  const rows: HangRow[] = [];
  for (const { rate, hangMs } of CASES) {
    for (const run of [faultline, bareAutocannon]) {
      const row = await run(rate, hangMs);
      rows.push(row);
      const late = row.late === null ? '–' : `${row.late} (${row.lateOutside})`;
      const wire = row.wireP99Ms === null ? '–' : `${row.wireP99Ms} ms`;
      log(
        `| ${rate} | ${hangMs / 1000} s | ${row.client} | ${ratio(row.truth)} | ${ratio(row.reported)} | ${pp(row.reported, row.truth)} | ${late} | ${wire} | ${row.note} |`,
      );
      await sleep(500);
    }
  }
  log(`(load average ${loadavg()[0]?.toFixed(1)} at the end)`);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await hangTruth();
