// The compare report on a stack faultline did not start: a fixture suite (test/fixtures/shop/experiments/
// compare-suite.yaml, the store killed under orders and the same load with nothing failing) run twice on the shop
// fixture at two rates, then one report with both columns whose sections, figures and charts are the suite's.
// Its own project, port and subnets, so it runs beside the reference stack and the other shop tests.

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, runCli } from '../helpers/stack.js';
import { shopDir, shopStack, type ShopStack } from '../helpers/fixture.js';
import { ExitCode } from '../../src/errors.js';
import type { SuiteJournal } from '../../src/experiment/journal.js';
import type { CompareModel } from '../../src/report/before-after.js';

let shop: ShopStack | undefined;

test.before(async (t) => {
  // A machine that has never built the fixture's images builds them first (a few minutes).
  t.timeout(20 * 60_000);
  shop = await shopStack({ project: 'shopcmp', httpsPort: 9753, frontPrefix: '10.219.51', backPrefix: '10.219.52', log: (line) => console.log(line) });
});

test.after.always(async () => {
  await shop?.down();
});

const RUNS = [
  { label: 'rate 20', rate: '20' },
  { label: 'rate 40', rate: '40' },
];

test.serial('two runs of a fixture suite on the shop give one report with both columns, its sections and figures from the suite', async (t) => {
  t.timeout(15 * 60_000);
  if (!shop) throw new Error('the shop fixture did not come up');
  const dir = await mkdtemp(join(tmpdir(), 'fl-fixture-compare-'));
  const journals: string[] = [];
  for (const r of RUNS) {
    const out = join(dir, r.rate);
    const res = await runCli(['run', join(shopDir, 'experiments', 'compare-suite.yaml'), '--out', out, '--no-bundle'], {
      env: { ...shop.env, CMP_RATE: r.rate, CI: '1' },
      timeoutMs: 600_000,
    });
    t.true(res.code === ExitCode.ok || res.code === ExitCode.failed, `${r.label}: exit ${res.code}: ${res.stderr.slice(-2000)}`);
    const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as SuiteJournal;
    t.deepEqual(
      journal.experiments.map((e) => [e.id, e.stack?.project]),
      [
        ['compare-store-kill', 'shopcmp'],
        ['compare-steady', 'shopcmp'],
      ],
      `${r.label}: both experiments ran on the shop`,
    );
    t.is(journal.report?.sections.length, 2, "the suite's report: is recorded in its journal");
    journals.push(join(out, 'journal.json'));
  }

  const out = join(dir, 'report');
  const res = await runCli(['compare-report', ...journals, ...RUNS.flatMap((r) => ['--label', r.label]), '--out', out]);
  t.is(res.code, 0, res.stderr);
  t.deepEqual(
    res.stdout.trim().split('\n'),
    ['json', 'md', 'html'].map((x) => join(out, `before-after.${x}`)),
  );
  const asJson = await runCli(['compare-report', ...journals, ...RUNS.flatMap((r) => ['--label', r.label]), '--out', out, '--json']);
  t.is(asJson.code, 0, asJson.stderr);
  t.deepEqual(JSON.parse(asJson.stdout), {
    json: join(out, 'before-after.json'),
    markdown: join(out, 'before-after.md'),
    html: join(out, 'before-after.html'),
  });
  const model = JSON.parse(await readFile(join(out, 'before-after.json'), 'utf8')) as CompareModel;
  t.is(model.title, 'The shop: one store, two runs');
  t.deepEqual(
    model.runs.map((r) => [r.label, r.stack?.project]),
    [
      ['rate 20', 'shopcmp'],
      ['rate 40', 'shopcmp'],
    ],
  );
  t.deepEqual(
    model.sections.map((s) => [s.id, s.title, s.experiment, s.figures.map((f) => f.name), s.series.label]),
    [
      [
        'store-is-the-only-database',
        "The store is the shop's only database",
        'compare-store-kill',
        ['write outage (s)', 'lost writes', 'availability'],
        'writes acknowledged, share of the writes sent each second',
      ],
      [
        'nothing-fails',
        'Lookups and orders when nothing fails',
        'compare-steady',
        ['availability', 'p99 latency (ms)'],
        'requests answered, share of the requests sent each second',
      ],
    ],
  );
  const [kill, steady] = model.sections;
  for (const r of RUNS) {
    // Both columns measured: the kill stopped writes in each run, nothing acknowledged was lost, and the charts have a point a second.
    const outage = kill!.figures[0]!.values[r.label];
    t.true(typeof outage === 'number' && outage > 0, `${r.label}: write outage ${outage}`);
    t.is(kill!.figures[1]!.values[r.label], 0, `${r.label}: lost writes`);
    t.true(typeof steady!.figures[0]!.values[r.label] === 'number', `${r.label}: availability`);
    t.true((kill!.series.points[r.label]?.length ?? 0) >= 13, `${r.label}: ${kill!.series.points[r.label]?.length} seconds charted`);
    // On the fault's clock: t = 0 is the kill (to the ms), so the second before it starts near t = -1.
    t.is(kill!.series.points[r.label]?.find((p) => Math.round(p.t) === -1)?.value, 1, `${r.label}: every write acknowledged the second before the kill`);
    t.true((kill!.series.faultEndS[r.label] ?? 0) >= 4, `${r.label}: the kill held 4 s`);
    const [writes, reads] = model.latency!.rows;
    t.true((writes?.values[r.label]?.count ?? 0) > 0 && (reads?.values[r.label]?.count ?? 0) > 0, `${r.label}: latency of orders and lookups`);
  }
  t.is(model.monitoring, null, 'the suite asks for no monitoring section');

  const md = await readFile(join(out, 'before-after.md'), 'utf8');
  t.regex(md, /^# The shop: one store, two runs\n/);
  t.is(md.match(/\| figure \| rate 20 \| rate 40 \| change \|/g)?.length, 2);
  t.regex(md, /When the store dies, orders fail until it is back/);
  t.regex(md, /## Latency of lookups and orders\n\n\| requests \| p50 rate 20 \| p50 rate 40 \| p50 ratio \|/);
  const html = await readFile(join(out, 'before-after.html'), 'utf8');
  for (const s of model.sections) {
    const section = html.match(new RegExp(`<section class="section" data-section="${s.id}"[\\s\\S]*?</section>`))?.[0] ?? '';
    for (const r of RUNS)
      t.is(section.match(new RegExp(`<td data-profile="${r.label}">`, 'g'))?.length, s.figures.length, `${s.id}: a ${r.label} cell per figure`);
    t.true((section.match(/<polyline class="series" data-profile="rate 40"/g)?.length ?? 0) > 0, `${s.id}: the second run's line`);
  }
  t.false(/baseline|hardened/.test(md + html), 'nothing of the reference suite');
});
