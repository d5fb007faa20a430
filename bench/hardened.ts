// What the hardened profile buys, against the baseline measured in the same run on the same machine: the write
// outage after SIGKILL of the writer (BENCH_RUNS runs per profile, default 5), acknowledged writes lost over all of
// them, and the price in latency (p50/p99 of reads and writes at the same paced rate, from the price experiment).
// One stack at a time (two side by side overload two cores): each profile is brought up before its runs and the
// baseline is removed after them (the hardened stack, stopped meanwhile, is started again after), and the hardened
// stack is left up.
// Run: node --import=tsx bench/hardened.ts     BENCH_RUNS=5 (hardened) BENCH_BASELINE_RUNS=5 BENCH_PROFILES=baseline,hardened

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experimentsOf, type ExperimentJournal, type Journal } from '../src/experiment/journal.js';
import { compareModel } from '../src/report/before-after.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS ?? RUNS);
const PROFILES = (process.env.BENCH_PROFILES ?? 'baseline,hardened').split(',') as Array<'baseline' | 'hardened'>;
const out = mkdtempSync(join(tmpdir(), 'flbench-hardened-'));

function run(file: string, profile: string, tag: string): ExperimentJournal {
  const dir = join(out, `${profile}-${tag}`);
  const r = spawnSync(process.execPath, ['bin/faultline.js', 'run', file, '--profile', profile, '--out', dir], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${file} on ${profile}: exit ${r.status}\n${r.stderr.slice(-1500)}`);
  return experimentsOf(JSON.parse(readFileSync(join(dir, 'journal.json'), 'utf8')) as Journal)[0]!;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
};

const kills: Record<string, ExperimentJournal[]> = {};
const prices: Record<string, ExperimentJournal> = {};
function cli(args: string[]): void {
  const r = spawnSync(process.execPath, ['bin/faultline.js', ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`faultline ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-1500)}`);
}

// The hardened stack, if a previous run left it up, waits stopped while the baseline runs (as npm run main does).
function stopHardened(): void {
  spawnSync('sh', ['-c', 'docker ps -q --filter label=faultline.stack=faultline-hardened | xargs -r docker stop -t 30 > /dev/null'], { stdio: 'inherit' });
}

for (const profile of PROFILES) {
  if (profile === 'baseline') stopHardened();
  cli(['stack', 'up', '--profile', profile]);
  kills[profile] = [];
  for (let i = 1; i <= (profile === 'baseline' ? BASELINE_RUNS : RUNS); i += 1) {
    const j = run('experiments/before-after/db-primary-kill.yaml', profile, `kill${i}`);
    kills[profile]!.push(j);
    const m = j.metrics;
    console.log(
      `${profile.padEnd(9)} kill ${i}: write outage ${m.write_outage_s} s, lost ${m.lost_writes}, unexpected ${m.unexpected_writes}, data ${m.data_loss_status}`,
    );
  }
  prices[profile] = run('experiments/before-after/price.yaml', profile, 'price');
  if (profile === 'baseline') cli(['stack', 'down']);
}

console.log('\nfigure                                   baseline     hardened     hardened / baseline');
const outage = (p: string) => median((kills[p] ?? []).map((j) => Number(j.metrics.write_outage_s)));
const lost = (p: string) => (kills[p] ?? []).reduce((n, j) => n + Number(j.metrics.lost_writes ?? NaN), 0);
const row = (name: string, b: number, h: number) =>
  console.log(`${name.padEnd(40)} ${b.toFixed(2).padStart(8)}     ${h.toFixed(2).padStart(8)}     ${(h / b).toFixed(2)}`);
row(`write outage, median (s)`, outage('baseline'), outage('hardened'));
row(`lost acknowledged writes, all runs`, lost('baseline'), lost('hardened'));
console.log(`(runs: baseline ${kills.baseline?.length ?? 0}, hardened ${kills.hardened?.length ?? 0})`);
if (prices.baseline && prices.hardened) {
  const suite = (j: ExperimentJournal): Journal => ({ ...j });
  const model = compareModel({
    journals: [suite(prices.baseline), suite(prices.hardened)],
    labels: ['baseline', 'hardened'],
    report: { sections: [], latency: { experiment: 'price', title: 'price' }, notes: [] },
  });
  for (const { kind, values } of model.latency?.rows ?? []) {
    const [b, h] = [values.baseline, values.hardened];
    if (!b || !h) continue;
    row(`${kind} p50 (ms)`, b.p50 ?? NaN, h.p50 ?? NaN);
    row(`${kind} p99 (ms)`, b.p99 ?? NaN, h.p99 ?? NaN);
  }
}
console.log(`\njournals: ${out}`);
