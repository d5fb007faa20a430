// `npm run main` as a user runs it, timed, and what its report shows: the three weakness figures (plaintext hops,
// write outage, web capacity lost) with their 95 % intervals, and whether each pair separates. The reference, measured
// in the same run (BENCH_REFERENCE=1, the default): what the same intervals cost without repetitions inside a run,
// six rounds of the suite with one injection and one look per experiment; one such round is run on both profiles and
// counted six times (a 95 % interval of the median needs 6 samples).
// BENCH_COLD=1 first removes both stacks and faultline's stack images (the base image and the engine stay), so main
// builds every image and starts both profiles from empty volumes: the nearest to a fresh machine this one can be.
// Goals (issue 21): under 6 minutes warm, under 12 fresh.
// Run: node --import=tsx bench/main.ts          BENCH_COLD=1 BENCH_REFERENCE=0 node --import=tsx bench/main.ts

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type { CompareModel } from '../src/report/compare-model.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const COLD = process.env.BENCH_COLD === '1';
const REFERENCE = (process.env.BENCH_REFERENCE ?? '1') === '1';
const out = mkdtempSync(join(tmpdir(), 'flbench-main-'));

function sh(cmd: string, env: NodeJS.ProcessEnv = {}): { ms: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', cmd], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'pipe'] });
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}`);
  return { ms: performance.now() - t0, stderr: r.stderr };
}
const min = (ms: number) => `${(ms / 60_000).toFixed(2)} min`;

if (COLD) {
  sh('node bin/faultline.js stack down --profile hardened; node bin/faultline.js stack down');
  sh(`docker images --format '{{.Repository}}:{{.Tag}}' | grep '^faultline/' | grep -v '^faultline/base' | xargs -r docker rmi -f > /dev/null`);
  console.log('cold: both stacks removed, the stack images removed (base image kept)');
}

// --- npm run main, as the README says.
const main = sh('bash scripts/main.sh', { FAULTLINE_OUT: join(out, 'main') });
const rounds = [...main.stderr.matchAll(/main: \[(\w+)\] 1 round\(s\) in (\d+) s/g)].map((m) => `${m[1]} ${m[2]} s`).join(', ');
const model = JSON.parse(readFileSync(join(out, 'main', 'before-after.json'), 'utf8')) as CompareModel;
const [a, b] = model.runs.map((r) => r.label) as [string, string];
console.log(`\nnpm run main (${COLD ? 'cold: images built, stacks from empty volumes' : 'warm'}): ${min(main.ms)} (suite rounds: ${rounds})`);
console.log(`goal: under ${COLD ? 12 : 6} min: ${main.ms < (COLD ? 12 : 6) * 60_000 ? 'met' : 'MISSED'}`);
let separated = 0;
for (const s of model.sections) {
  const f = s.figures[0]!;
  const col = (l: string) => {
    const iv = f.intervals?.[l];
    return `${String(f.values[l])} [${iv ? `${String(iv.low)}–${String(iv.high)}, ${iv.n} ${f.per?.[l] ?? 'run'}s, ${(iv.coverage * 100).toFixed(1)} %` : 'no interval'}]`;
  };
  if (f.verdict === 'better' || f.verdict === 'worse') separated += 1;
  console.log(`  ${s.title}: ${f.name}: ${a} ${col(a)}  ${b} ${col(b)}  → ${f.verdict}`);
}
console.log(`headline figures whose intervals separate: ${separated} of ${model.sections.length}`);

// --- the reference: one round of the suite with one injection and one look per experiment, on both profiles.
if (REFERENCE) {
  const dir = join(out, 'once');
  const suite = YAML.parse(readFileSync(join(root, 'experiments/before-after.yaml'), 'utf8')) as { suite: string[] };
  suite.suite = suite.suite.map((rel) => {
    const doc = YAML.parse(readFileSync(join(root, 'experiments', rel), 'utf8')) as {
      load: Record<string, unknown>;
      method: Array<Record<string, unknown>>;
    };
    for (const step of doc.method) {
      if ('fault' in step) {
        delete step.times;
        delete step.every;
      } else if (step.every !== undefined) {
        delete step.every;
        step.at = '5s';
      }
    }
    writeFileSync(join(out, basename(rel)), YAML.stringify(doc));
    return basename(rel);
  });
  writeFileSync(join(out, 'before-after.yaml'), YAML.stringify(suite));
  const ref = sh(
    [
      'node bin/faultline.js stack down --profile hardened',
      'node bin/faultline.js stack up',
      `node bin/faultline.js run ${join(out, 'before-after.yaml')} --profile baseline --out ${dir}/baseline || [ $? = 1 ]`,
      'node bin/faultline.js stack down',
      'node bin/faultline.js stack up --profile hardened',
      `node bin/faultline.js run ${join(out, 'before-after.yaml')} --profile hardened --out ${dir}/hardened || [ $? = 1 ]`,
    ].join(' && '),
  );
  console.log(
    `\nreference: one round of one injection per experiment on both profiles (stacks up and down as main does): ${min(ref.ms)}; ` +
      `six rounds for the same 6 samples: ${min(6 * ref.ms)}; npm run main / that: ${(main.ms / (6 * ref.ms)).toFixed(2)}×`,
  );
}
console.log(`\nreports: ${out}`);
