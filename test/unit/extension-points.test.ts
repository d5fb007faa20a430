// Extension points describe themselves: a fault, a probe and a report format, each defined in this file and
// added with one registration line, go through the public entry points (validation of an experiment file, fault
// injection and revert on the fake Docker, running and rendering a probe, writing the reports and the bundle).

import test from 'ava';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import YAML from 'yaml';
import { z } from 'zod';
import { FaultlineError } from '../../src/errors.js';
import { catalogue } from '../../src/experiment/catalogue.js';
import { experimentsOf, newJournal, type Journal } from '../../src/experiment/journal.js';
import { validateExperiment } from '../../src/experiment/schema.js';
import { summaryLines } from '../../src/cli/commands/experiment.js';
import { defaultRegistry, faults, injectFault, type FaultDefinition } from '../../src/faults/index.js';
import { observation, probes, renderObservation, runProbe, startMark, type Probe } from '../../src/probes/index.js';
import { writeBundle, writeReports } from '../../src/report/bundle.js';
import { reportFormats, type ReportFormat } from '../../src/report/formats.js';
import { FakeDocker, fakeContext, stackLabels } from '../helpers/fake-docker.js';

// A fault: "mark" a server by writing a file into its host container; revert removes it.
const markParams = z.object({ note: z.string().min(1).default('here') }).strict();
const markFault: FaultDefinition<z.infer<typeof markParams>, { id: string }> = {
  name: 'server-mark',
  kind: 'process',
  description: 'leaves a note in a server (a fault defined by a test)',
  defaultTarget: 'server=web1,component=host',
  params: markParams,
  data: z.object({ id: z.string() }),
  async plan(ctx, target, params) {
    const [c] = (await ctx.stack.containers()).filter((x) => x.server === 'web1' && x.component === 'host');
    return {
      targets: [{ id: c!.id, name: c!.name, service: c!.service }],
      steps: [`write "${params.note}" to ${target}`],
      slots: ['web1:mark'],
      data: { id: c!.id },
    };
  },
  async apply(ctx, record, _update, signal) {
    await ctx.docker.exec(record.data.id, ['sh', '-c', 'echo mark > /tmp/mark'], { signal });
  },
  async revert(ctx, record, signal) {
    await ctx.docker.exec(record.data.id, ['rm', '-f', '/tmp/mark'], { signal });
  },
  async check() {
    return { active: true, detail: 'marked' };
  },
};

// A probe: counts the stack's running containers, and says so in its own words.
const countProbe: Probe<{ min: number }, number> = {
  name: 'running-count',
  description: 'how many of the stack’s containers run (a probe defined by a test)',
  params: z.object({ min: z.coerce.number().int().min(0).default(1) }).strict(),
  render: (o) => [`${o.value} container(s) running`],
  async run(ctx, p) {
    const started = startMark();
    const running = (await ctx.stack.containers()).filter((c) => c.state === 'running').length;
    return observation('running-count', started, { value: running, tolerance: { type: 'atLeast', min: p.min } });
  },
};

// A report format: one line per experiment.
const csvFormat: ReportFormat = {
  name: 'csv',
  file: 'report.csv',
  render: (j: Journal) =>
    `experiment,status\n${experimentsOf(j)
      .map((e) => `${e.id},${e.status}`)
      .join('\n')}\n`,
};

// The three registration lines.
faults.register(markFault);
probes.register(countProbe);
reportFormats.register(csvFormat);

test('an experiment file may name the registered fault and probe; a typo gets the nearest name', (t) => {
  const yaml = (fault: string, probe: string) =>
    `title: x\nload: { driver: paced, rate: 10, duration: 10s }\nmethod:\n  - fault: ${fault}\n    at: 1s\n    for: 2s\n    params: { note: hi }\n  - probe: ${probe}\n    at: 2s\n    params: { min: 2 }\n`;
  t.notThrows(() => validateExperiment(YAML.parse(yaml('server-mark', 'running-count')), 'x.yaml', catalogue(), {}));
  const err = t.throws(() => validateExperiment(YAML.parse(yaml('server-mrk', 'runing-count')), 'x.yaml', catalogue(), {}));
  t.regex(err!.message, /unknown fault "server-mrk"; did you mean server-mark\?/);
  t.regex(err!.message, /unknown probe "runing-count"; did you mean running-count\?/);
});

test('faults and probes share one unknown-name error (UNKNOWN_NAME, exit 2) and one suggestion', (t) => {
  for (const [registry, typo, near] of [
    [defaultRegistry(), 'server-mak', 'server-mark'],
    [probes, 'running-cont', 'running-count'],
  ] as const) {
    const err = t.throws(() => registry.get(typo)) as FaultlineError;
    t.is(err.code, 'UNKNOWN_NAME');
    t.is(err.exitCode, 2);
    t.regex(err.message, new RegExp(`did you mean ${near}\\?`));
  }
  t.throws(() => probes.register(countProbe), { message: /probe running-count is registered twice/ });
});

test('the registered fault is injected and reverted through the engine, on the fake Docker', async (t) => {
  const docker = new FakeDocker();
  const host = docker.add({ labels: stackLabels('web1', 'host') });
  const ctx = await fakeContext(docker);
  const active = await injectFault(ctx, defaultRegistry().configure('server-mark', { params: { note: 'hi' } }), AbortSignal.timeout(5000));
  t.is(active.record.targets[0]!.id, host.id);
  t.deepEqual(active.record.steps, ['write "hi" to server=web1,component=host']);
  await active.revert();
  t.true(active.reverted);
  t.deepEqual(await ctx.store.list(), []);
  t.true(
    docker.calls.some((c) => c.includes('rm -f /tmp/mark')),
    docker.calls.join('\n'),
  );
});

test('the registered probe runs and prints in its own words', async (t) => {
  const docker = new FakeDocker();
  docker.add({ labels: stackLabels('web1', 'host') });
  docker.add({ labels: stackLabels('web1', 'nginx'), state: 'exited' });
  const { stack } = await fakeContext(docker);
  const o = await runProbe(probes.get('running-count'), { stack, docker: docker as never }, { min: '1' }, AbortSignal.timeout(5000));
  t.is(o.value, 1);
  t.true(o.passed);
  t.regex(renderObservation(o), /^probe running-count: passed \(tolerance ≥ 1\).*\n {2}1 container\(s\) running$/);
});

test('the registered report format is written, listed and bundled with the others', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-ext-'));
  const journal = {
    ...newJournal({ id: 'x', title: 'x', description: '', file: 'x.yaml' }, {}, new Date().toISOString()),
    status: 'passed' as const,
    reason: 'ok',
  };
  const files = await writeReports(journal, dir);
  t.deepEqual(
    files.reports.map((r) => r.format.file),
    ['report.md', 'report.html', 'junit.xml', 'report.csv'],
  );
  t.is(await readFile(join(dir, 'report.csv'), 'utf8'), 'experiment,status\nx,passed\n');
  t.deepEqual(summaryLines(files), [
    `  report: ${join(dir, 'report.md')}\n`,
    `  html:   ${join(dir, 'report.html')}\n`,
    `  junit:  ${join(dir, 'junit.xml')}\n`,
    `  csv:    ${join(dir, 'report.csv')}\n`,
  ]);
  const bundled = await writeBundle(journal, dir);
  const entries: string[] = [];
  await tar.t({ file: bundled.bundle!, onReadEntry: (e: { path: string }) => entries.push(e.path) } as never);
  t.true(entries.includes('report.csv'), entries.join(', '));
});
