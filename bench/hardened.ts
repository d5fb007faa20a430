// What the hardened profile buys, against the baseline measured in the same run on the same machine: the write
// outage after SIGKILL of the writer (BENCH_RUNS runs on the hardened profile, default 10; BENCH_BASELINE_RUNS on the
// baseline, default 5), acknowledged writes lost over all of them, and the price in latency (p50/p99 of reads and
// writes at the same paced rate, from the price experiment).
// The hardened stack's first kill comes right after a cold start (BENCH_COLD=1, the default: the stack is removed
// and brought up again, so its nodes start from empty volumes), or right after a restart order of its Galera tier
// (BENCH_RESTART=stopped|crash-then-stop|two-crashed|all-crashed|empty-datadir, applied with docker on the running
// stack and followed by `stack up`, which reports the stack up only when the tier can fail over). Each figure is
// printed with the goal: every kill under 2 s, none lost.
// One stack at a time (two side by side overload two cores): each profile is brought up before its runs and the
// baseline is removed after them (the hardened stack, stopped meanwhile, is started again after), and the hardened
// stack is left up.
// Run: node --import=tsx bench/hardened.ts     BENCH_PROFILES=hardened BENCH_RUNS=10 BENCH_RESTART=all-crashed

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experimentsOf, type ExperimentJournal, type Journal } from '../src/experiment/journal.js';
import { compareModel } from '../src/report/before-after.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS ?? 5);
const COLD = (process.env.BENCH_COLD ?? '1') === '1' && !process.env.BENCH_RESTART;
const RESTART = process.env.BENCH_RESTART;
const GOAL_S = 2;
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

/**
 * The write outage counted as the journal counts it (failed writes from the kill to the end of the run), leaving out
 * the writes the load driver itself could not send on time ("LATE": on two cores at load average 70 it falls behind
 * before, during and after the kill): what the stack cost, apart from what the overloaded client did.
 */
function stackOutage(j: ExperimentJournal): number {
  const from = j.faultWindows[0]?.startMs ?? 0;
  const writes = (j.load?.ledger.writes ?? []).filter((w) => w.intendedMs >= from && w.error !== 'LATE').sort((a, b) => a.intendedMs - b.intendedMs);
  const end = Math.max(from, ...writes.map((w) => w.intendedMs + 100));
  let open: number | null = null;
  let sum = 0;
  for (const w of writes) {
    if (w.outcome !== 'ok') open ??= w.intendedMs;
    else if (open !== null) {
      sum += w.intendedMs - open;
      open = null;
    }
  }
  if (open !== null) sum += end - open;
  return sum / 1000;
}

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

function sh(script: string): string {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script}: exit ${r.status}\n${r.stderr.slice(-1500)}`);
  return r.stdout.trim();
}

/** The hardened Galera tier's mariadb containers, galera1..3 (docker ids). */
function galeraIds(): string[] {
  return ['galera1', 'galera2', 'galera3'].map((server) =>
    sh(`docker ps -aq --filter label=faultline.stack=faultline-hardened --filter label=faultline.server=${server} --filter label=faultline.component=mariadb`),
  );
}

/** Applies one restart order of issue 21 to the running hardened tier with docker, as test/hardened/restart-orders.test.ts does. */
function restartOrder(order: string): void {
  const [g1, g2, g3] = galeraIds() as [string, string, string];
  const all = `${g1} ${g2} ${g3}`;
  const clusterSize = () => sh(`docker exec ${g1} mariadb --protocol=socket -uroot -N -B -e "SHOW STATUS LIKE 'wsrep_cluster_size'" | cut -f2`);
  switch (order) {
    case 'stopped':
      sh(`docker stop -t 30 ${all} > /dev/null && docker start ${all} > /dev/null`);
      break;
    case 'crash-then-stop':
      sh(`docker kill ${g2} > /dev/null`);
      for (let i = 0; i < 30 && clusterSize() !== '2'; i += 1) sh('sleep 1');
      sh(`docker stop -t 30 ${g1} ${g3} > /dev/null && docker start ${all} > /dev/null`);
      break;
    case 'two-crashed':
      sh(`docker kill ${g2} ${g3} > /dev/null && docker start ${g2} ${g3} > /dev/null`);
      break;
    case 'all-crashed':
      sh(`docker kill ${all} > /dev/null && docker start ${all} > /dev/null`);
      break;
    case 'empty-datadir': {
      const volume = sh(`docker volume ls -q --filter label=faultline.stack=faultline-hardened | grep 'galera1-data$'`);
      const image = sh(`docker inspect -f '{{.Config.Image}}' ${g1}`);
      sh(`docker stop -t 30 ${all} > /dev/null`);
      sh(`docker run --rm --network none -v ${volume}:/d --entrypoint bash ${image} -c 'find /d -mindepth 1 -delete'`);
      sh(`docker start ${all} > /dev/null`);
      break;
    }
    default:
      throw new Error(`BENCH_RESTART=${order}: one of stopped, crash-then-stop, two-crashed, all-crashed, empty-datadir`);
  }
}

for (const profile of PROFILES) {
  if (profile === 'baseline') stopHardened();
  if (profile === 'hardened' && COLD) {
    cli(['stack', 'down', '--profile', 'hardened']);
    console.log('hardened: cold start (stack removed, brought up again from empty volumes)');
  }
  if (profile === 'hardened' && RESTART) {
    cli(['stack', 'up', '--profile', profile]);
    restartOrder(RESTART);
    console.log(`hardened: restart order ${RESTART} applied`);
  }
  const upAt = Date.now();
  cli(['stack', 'up', '--profile', profile]);
  console.log(`${profile}: stack up in ${((Date.now() - upAt) / 1000).toFixed(1)} s`);
  kills[profile] = [];
  for (let i = 1; i <= (profile === 'baseline' ? BASELINE_RUNS : RUNS); i += 1) {
    const j = run('experiments/before-after/db-primary-kill.yaml', profile, `kill${i}`);
    kills[profile]!.push(j);
    const m = j.metrics;
    console.log(
      `${profile.padEnd(9)} kill ${i}: write outage ${m.write_outage_s} s (${stackOutage(j).toFixed(2)} s without the writes the driver could not send on time), ` +
        `lost ${m.lost_writes}, unexpected ${m.unexpected_writes}, data ${m.data_loss_status}`,
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
for (const p of PROFILES) {
  const outages = (kills[p] ?? []).map((j) => Number(j.metrics.write_outage_s));
  const over = outages.filter((s) => !(s < GOAL_S)).length;
  console.log(
    `${p}: write outage per kill ${outages.map((s) => s.toFixed(2)).join(', ')} s; max ${Math.max(...outages).toFixed(2)} s; ` +
      `${over ? `${over} kill(s) at or over ${GOAL_S} s` : `every kill under ${GOAL_S} s`}; lost ${lost(p)}`,
  );
}
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
