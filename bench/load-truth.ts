// "Truth under faults": refused connections, resets, a 4 s and a 12 s hang against a local server that logs what
// it answered (the ground truth), measured by faultline paced, faultline closed and bare autocannon side by side:
// availability, failed requests, p99. Used by bench/load.ts; runnable alone: node --import=tsx bench/load-truth.ts

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoad } from '../src/load/index.js';
import type { LoadJob } from '../src/load/index.js';
import { sleep, startServer } from '../test/load/_support.js';
import type { TestServer } from '../test/load/_support.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RATE = 300;
const CONNECTIONS = 10;

interface Scenario {
  name: string;
  durationMs: number;
  fromMs: number;
  toMs: number;
  /** What the server does inside [fromMs, toMs). */
  apply(server: TestServer): Promise<void> | void;
  heal(server: TestServer): Promise<void> | void;
  /** The p99 a truthful client must report at least (ms), or null when the fault says nothing about latency. */
  p99AtLeastMs: number | null;
}

const SCENARIOS: Scenario[] = [
  { name: 'refuse 2 s', durationMs: 9000, fromMs: 3000, toMs: 5000, apply: (s) => s.kill(), heal: (s) => s.restart(), p99AtLeastMs: null },
  { name: 'reset 2 s', durationMs: 9000, fromMs: 3000, toMs: 5000, apply: (s) => s.reset(), heal: (s) => s.resume(), p99AtLeastMs: null },
  { name: 'hang 4 s', durationMs: 9000, fromMs: 3000, toMs: 7000, apply: (s) => s.stall(), heal: (s) => s.resume(), p99AtLeastMs: 4000 },
  { name: 'hang 12 s', durationMs: 16_000, fromMs: 2000, toMs: 14_000, apply: (s) => s.stall(), heal: (s) => s.resume(), p99AtLeastMs: 10_000 },
];

export interface TruthRow {
  scenario: string;
  client: string;
  /** From the server's log. */
  truth: { intended: number; answered: number; availability: number };
  reported: { availability: number | null; failed: number; p99Ms: number | null };
}

async function drive(server: TestServer, sc: Scenario, elapsed: () => number): Promise<void> {
  const at = async (ms: number) => {
    const wait = ms - elapsed();
    if (wait > 0) await sleep(wait);
  };
  await at(sc.fromMs);
  await sc.apply(server);
  await at(sc.toMs);
  await sc.heal(server);
}

async function faultline(sc: Scenario, driver: 'paced' | 'closed'): Promise<TruthRow> {
  const server = await startServer();
  try {
    const job: LoadJob = startLoad({
      url: server.url,
      ...(driver === 'paced' ? { rate: RATE } : { connections: CONNECTIONS }),
      durationMs: sc.durationMs,
    });
    await drive(server, sc, () => job.elapsedMs());
    const r = await job.result;
    const s = r.summary;
    return {
      scenario: sc.name,
      client: `faultline ${driver}`,
      truth: { intended: s.intended, answered: server.answered, availability: server.answered / s.intended },
      reported: { availability: s.availability, failed: s.intended - s.successes, p99Ms: s.latency.p99 },
    };
  } finally {
    await server.close();
  }
}

interface AutocannonJson {
  requests: { sent: number; total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  latency: { p99: number };
}

async function autocannon(sc: Scenario): Promise<TruthRow> {
  const server = await startServer();
  try {
    const started = performance.now();
    const child = spawn(
      join(root, 'node_modules/.bin/autocannon'),
      ['-c', String(CONNECTIONS), '-d', String(Math.round(sc.durationMs / 1000)), '-n', '-j', server.url],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
    // autocannon needs a moment to start; its clock starts about when this one does.
    await drive(server, sc, () => performance.now() - started);
    await done;
    const r = JSON.parse(out) as AutocannonJson;
    // What a user reads off its output: 2xx over everything it counted (responses, errors, timeouts).
    const counted = r.requests.total + r.errors + r.timeouts;
    return {
      scenario: sc.name,
      client: 'autocannon (its own figures)',
      truth: { intended: r.requests.sent, answered: server.answered, availability: server.answered / Math.max(1, r.requests.sent) },
      reported: { availability: counted ? r['2xx'] / counted : null, failed: r.errors + r.timeouts + r.non2xx, p99Ms: r.latency.p99 },
    };
  } finally {
    await server.close();
  }
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const msFmt = (v: number | null) => (v === null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);

export async function truthUnderFaults(log: (line: string) => void = console.log): Promise<TruthRow[]> {
  log(`\n## truth under faults: local server that logs what it answered; paced ${RATE} req/s, closed ${CONNECTIONS} connections, timeout 10 s`);
  log(
    '| scenario | client | truth: answered / intended | truth availability | reported availability | reported failed | truth failed | reported p99 | p99 must be ≥ |',
  );
  log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  const rows: TruthRow[] = [];
  for (const sc of SCENARIOS) {
    for (const row of [await faultline(sc, 'paced'), await faultline(sc, 'closed'), await autocannon(sc)]) {
      rows.push(row);
      const truthFailed = row.truth.intended - row.truth.answered;
      log(
        `| ${row.scenario} | ${row.client} | ${row.truth.answered} / ${row.truth.intended} | ${pct(row.truth.availability)} | ${pct(row.reported.availability)} | ` +
          `${row.reported.failed} | ${truthFailed} | ${msFmt(row.reported.p99Ms)} | ${msFmt(sc.p99AtLeastMs)} |`,
      );
    }
  }
  log('(closed models send only when answered: in a hang they intend few requests, so their availability stays high by construction;');
  log(' autocannon counts reconnect attempts as errors and its latency is wrong after a connection error)');
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await truthUnderFaults();
