// The before/after HTML as a browser renders it: every weakness section with both profiles' cells, the monitoring
// and price sections, in the DOM headless Chromium dumps. Without Chromium: skipped locally, failed in CI.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareModel, renderCompareHtml } from '../../src/report/before-after.js';
import { loadFile, type Suite } from '../../src/experiment/schema.js';
import { btest as test, renderedDom } from '../helpers/chromium.js';
import { beforeAfterSuite, journal } from '../helpers/journal.js';

const experiment = journal;
const suite = beforeAfterSuite;

test('Chromium renders each weakness section with a baseline and a hardened cell, plus monitoring and price', async (t) => {
  const baseline = suite('baseline <profile>', [
    experiment('db-primary-kill', { write_outage_s: 8.4, lost_writes: 0 }),
    experiment('shared-component-outage', { web_capacity_lost_ratio: 1, read_error_ratio_during_faults: 1 }),
  ]);
  // The hardened run lacks one experiment: its section still has both columns.
  const hardened = suite('hardened', [experiment('db-primary-kill', { write_outage_s: 1.7, lost_writes: 0 })]);
  const { report } = (await loadFile('experiments/before-after.yaml', undefined)) as Suite;
  const model = compareModel({ journals: [baseline, hardened], labels: ['baseline', 'hardened'], report: report! });
  const dir = await mkdtemp(join(tmpdir(), 'fl-before-after-html-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'before-after.html');
  await writeFile(file, renderCompareHtml(model));

  const dom = await renderedDom(file);
  for (const w of model.sections) {
    const section = dom.match(new RegExp(`<section class="section" data-section="${w.id}"[\\s\\S]*?</section>`))?.[0];
    t.truthy(section, `section ${w.id} in the DOM`);
    t.is(section?.match(/<td data-profile="baseline">/g)?.length, w.figures.length, `${w.id}: a baseline cell per figure`);
    t.is(section?.match(/<td data-profile="hardened">/g)?.length, w.figures.length, `${w.id}: a hardened cell per figure`);
    t.regex(section ?? '', /<svg class="chart"/, `${w.id}: its chart`);
  }
  t.regex(dom, /<section id="monitoring">/);
  t.regex(dom, /<section id="latency">/);
  t.regex(dom, /<td data-profile="baseline">baseline &lt;profile&gt;<\/td>/, 'the title is text, not markup');
});
