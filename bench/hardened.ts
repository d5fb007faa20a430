// What the hardened profile buys, against the baseline measured in the same run on the same machine: the write
// outage after SIGKILL of the writer (BENCH_KILLS kills on the hardened profile, default 10, BENCH_RUNS its older
// name; BENCH_BASELINE_RUNS on the baseline, default 5), acknowledged writes lost over all of them, and the price in
// latency (p50/p99 of reads and writes at the same paced rate, from the price experiment).
// The hardened stack's first kill comes right after a cold start (BENCH_COLD=1, the default: the stack is removed
// and brought up again, so its nodes start from empty volumes), or right after a restart order of its Galera tier
// (BENCH_RESTART=stopped|crash-then-stop|two-crashed|all-crashed|empty-datadir|alone, applied with docker on the
// running stack and followed by `stack up`, which reports the stack up only when the tier can fail over).
// BENCH_RESTART=all runs issue 21's whole goal on the hardened profile alone, one case after the other: a cold start,
// then each restart order, each followed by BENCH_KILLS kills, and prints one table row per case. Each kill is checked
// against the goal, under 2 s of write outage and no acknowledged write lost; the exit status is 1 when one is not.
// The price in latency runs only when both profiles do: it is a comparison.
// One stack at a time (two side by side overload two cores): each profile is brought up before its runs and the
// baseline is removed after them (the hardened stack, stopped meanwhile, is started again after), and the hardened
// stack is left up.
// Run: node --import=tsx bench/hardened.ts     BENCH_PROFILES=hardened BENCH_KILLS=10 BENCH_RESTART=all-crashed
//      BENCH_RESTART=all BENCH_KILLS=10 node --import=tsx bench/hardened.ts   (about 55 minutes: 70 kills of ~40 s each
//      and seven `stack up`s, the cold one with two full state transfers)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { experimentsOf, type ExperimentJournal, type Journal } from '../src/experiment/journal.js';
import { compareModel } from '../src/report/before-after.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_KILLS ?? process.env.BENCH_RUNS ?? 10);
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS ?? 5);
const COLD = (process.env.BENCH_COLD ?? '1') === '1' && !process.env.BENCH_RESTART;
const RESTART = process.env.BENCH_RESTART;
const GOAL_S = 2;
const ORDERS = ['stopped', 'crash-then-stop', 'two-crashed', 'all-crashed', 'empty-datadir', 'alone'];
const ALL = RESTART === 'all';
// The hardened cases, one after the other: a cold start, restart orders (a comma-separated list), or the stack as found.
const CASES = ALL ? ['cold', ...ORDERS] : RESTART ? RESTART.split(',').filter(Boolean) : [COLD ? 'cold' : 'as-found'];
for (const c of CASES)
  if (c !== 'as-found' && c !== 'cold' && !ORDERS.includes(c)) throw new Error(`BENCH_RESTART=${RESTART}: all, or a list of cold, ${ORDERS.join(', ')}`);
if (!(RUNS >= 1)) throw new Error(`BENCH_KILLS=${process.env.BENCH_KILLS ?? process.env.BENCH_RUNS}: a count of kills, at least 1`);
// BENCH_RESTART=all is the hardened tier's goal alone: no baseline, no price.
const PROFILES = (ALL ? 'hardened' : (process.env.BENCH_PROFILES ?? 'baseline,hardened')).split(',') as Array<'baseline' | 'hardened'>;
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

/**
 * The suite's writer kill, once per run: the bench counts kills after each start of the stack, and the suite's file
 * kills six times in one run (its `times:`), so the copy it runs leaves `times` and `every` out.
 */
const KILL_FILE = (() => {
  const doc = YAML.parse(readFileSync(join(root, 'experiments/before-after/db-primary-kill.yaml'), 'utf8')) as { method: Array<Record<string, unknown>> };
  for (const step of doc.method) {
    delete step.times;
    delete step.every;
  }
  const file = join(out, 'db-primary-kill.yaml');
  writeFileSync(file, YAML.stringify(doc));
  return file;
})();

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
    case 'alone':
      // galera1 started alone after its peers were removed; the `stack up` that follows makes them again on their volumes.
      sh(`docker stop -t 30 ${all} > /dev/null && docker rm ${g2} ${g3} > /dev/null && docker start ${g1} > /dev/null`);
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
      throw new Error(`BENCH_RESTART=${order}: one of ${ORDERS.join(', ')}`);
  }
}

/** A kill meets the goal: write outage under GOAL_S, no acknowledged write lost. */
const killOk = (j: ExperimentJournal) => Number(j.metrics.write_outage_s) < GOAL_S && Number(j.metrics.lost_writes) === 0;

/** BENCH_KILLS writer kills (or the baseline's count), each printed with the goal. */
function killRuns(profile: 'baseline' | 'hardened', tag: string): ExperimentJournal[] {
  const list: ExperimentJournal[] = [];
  for (let i = 1; i <= (profile === 'baseline' ? BASELINE_RUNS : RUNS); i += 1) {
    const j = run(KILL_FILE, profile, `${tag}-kill${i}`);
    list.push(j);
    const m = j.metrics;
    console.log(
      `${profile.padEnd(9)} ${tag} kill ${i}: write outage ${m.write_outage_s} s (${stackOutage(j).toFixed(2)} s without the writes the driver could not send on time), ` +
        `lost ${m.lost_writes}, unexpected ${m.unexpected_writes}, data ${m.data_loss_status}${profile === 'hardened' ? (killOk(j) ? '  ok' : '  MISSED') : ''}`,
    );
  }
  return list;
}

/** Brings the hardened stack to one case's starting point (a cold start or a restart order) and times its `stack up`. */
function hardenedCase(name: string): number {
  if (name === 'cold') {
    cli(['stack', 'down', '--profile', 'hardened']);
    console.log('hardened: cold start (stack removed, brought up again from empty volumes)');
  } else if (name !== 'as-found') {
    cli(['stack', 'up', '--profile', 'hardened']);
    restartOrder(name);
    console.log(`hardened: restart order ${name} applied`);
  }
  const upAt = Date.now();
  cli(['stack', 'up', '--profile', 'hardened']);
  const s = (Date.now() - upAt) / 1000;
  console.log(`hardened: stack up in ${s.toFixed(1)} s`);
  return s;
}

const caseRows: Array<{ name: string; upS: number; journals: ExperimentJournal[] }> = [];
for (const profile of PROFILES) {
  if (profile === 'baseline') {
    stopHardened();
    const upAt = Date.now();
    cli(['stack', 'up', '--profile', profile]);
    console.log(`${profile}: stack up in ${((Date.now() - upAt) / 1000).toFixed(1)} s`);
    kills[profile] = killRuns(profile, 'run');
  } else {
    kills[profile] = [];
    for (const name of CASES) {
      const upS = hardenedCase(name);
      const journals = killRuns(profile, name);
      caseRows.push({ name, upS, journals });
      kills[profile]!.push(...journals);
    }
  }
  // The price in latency is a comparison: only with both profiles.
  if (PROFILES.length > 1) prices[profile] = run('experiments/before-after/price.yaml', profile, 'price');
  if (profile === 'baseline') cli(['stack', 'down']);
}

/** One row per hardened case: how long `stack up` took, each kill's write outage, the lost writes, and the goal. */
function caseTable(): number {
  const width = Math.max(25, RUNS * 6);
  console.log(`\ncase              stack up (s)   kills   ${'write outage per kill (s)'.padEnd(width)}   max (s)   lost   goal`);
  let missedAll = 0;
  for (const { name, upS, journals } of caseRows) {
    const outages = journals.map((j) => Number(j.metrics.write_outage_s));
    const lostAll = journals.reduce((n, j) => n + Number(j.metrics.lost_writes ?? NaN), 0);
    const missed = journals.filter((j) => !killOk(j)).length;
    missedAll += missed;
    console.log(
      `${name.padEnd(17)} ${upS.toFixed(1).padStart(12)}   ${String(journals.length).padStart(5)}   ${outages
        .map((x) => x.toFixed(2).padStart(5))
        .join(' ')
        .padEnd(width)}   ${Math.max(...outages)
        .toFixed(2)
        .padStart(7)}   ${String(lostAll).padStart(4)}   ${missed ? `${missed} missed` : 'met'}`,
    );
  }
  console.log(`goal: every kill under ${GOAL_S} s of write outage and none lost; ${missedAll ? `${missedAll} kill(s) missed it` : 'met by every kill'}`);
  return missedAll;
}

if (!PROFILES.includes('baseline')) {
  const missed = caseTable();
  console.log(`\njournals: ${out}`);
  process.exit(missed ? 1 : 0);
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
process.exitCode = caseTable() ? 1 : 0;
console.log(`\njournals: ${out}`);
