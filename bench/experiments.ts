// Experiment wall times on a warm stack: `db-primary-kill` alone and the `gameday` suite, through the CLI
// as a user runs them, with the figures db-primary-kill exists to measure (write outage, time to recover,
// lost writes). Reference measured in the same run: the time the experiments' load alone must take (the sum
// of their load durations), so the ratio is the runner's overhead (stack check, steady state, probes,
// reverts, reports).
// Run: node --import=tsx bench/experiments.ts   (on the default stack; brings it up if needed)

import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReferenceStack } from '../src/stack/reference-stack.js';
import { loadFile } from '../src/experiment/schema.js';
import { catalogue } from '../src/experiment/catalogue.js';
import { experimentsOf, type Journal } from '../src/experiment/journal.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function run(file: string, out: string): Promise<{ code: number | null; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/faultline.js', 'run', file, '--out', out], {
      cwd: root,
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('close', (code) => resolve({ code, ms: performance.now() - t0 }));
  });
}

async function loadSeconds(file: string): Promise<number> {
  const t = await loadFile(join(root, file), catalogue());
  const list = 'suite' in t ? t.experiments : [t];
  return list.reduce((n, e) => n + e.load.duration, 0);
}

await new ReferenceStack().up();
const rows: Array<[string, number, number, number | null]> = [];
let dpk: Journal | undefined;
for (const file of ['experiments/db-primary-kill.yaml', 'experiments/gameday.yaml']) {
  const out = await mkdtemp(join(tmpdir(), 'flbench-exp-'));
  const { code, ms } = await run(file, out);
  rows.push([file, ms, await loadSeconds(file), code]);
  const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as Journal;
  if (file.includes('db-primary-kill')) dpk = journal;
  for (const e of experimentsOf(journal)) console.error(`  ${e.id}: ${e.status} (${s(e.durationMs)}) — ${e.reason}`);
}

console.log('\nexperiment wall times on a warm stack (2 cores)\n');
console.log(`${'run'.padEnd(36)} ${'wall'.padStart(8)}  ${'load alone'.padStart(10)}  overhead  exit`);
for (const [name, ms, loadMs, code] of rows) {
  console.log(`${name.padEnd(36)} ${s(ms).padStart(8)}  ${s(loadMs).padStart(10)}  ${(ms / loadMs).toFixed(2).padStart(7)}×  ${code}`);
}
const m = dpk ? experimentsOf(dpk)[0]!.metrics : {};
const fixed = (v: unknown, digits: number): string => (typeof v === 'number' ? v.toFixed(digits) : 'n/a');
console.log(
  `\ndb-primary-kill: write outage ${fixed(m.write_outage_s, 2)} s, time to recover ${fixed(m.time_to_recover_s, 2)} s, ` +
    `lost writes ${m.lost_writes ?? 'n/a'} (data-loss check: ${m.data_loss_status ?? 'n/a'}), read errors during the fault ${fixed(m.read_error_ratio_during_faults, 4)}`,
);
