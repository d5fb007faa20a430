// Plugins (src/plugins.ts): a module from a folder of its own registers a fault, a probe and a report format through
// the API it is handed; the same file loads once; every way a plugin can fail is one INVALID_INPUT line naming the
// file; an experiment file's `plugins:` (and its stack description's) are imported before it is validated, so the
// catalogue check knows their names; the command line's --plugin and FAULTLINE_PLUGINS are read before commander.

import test from 'ava';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, FaultlineError, InvalidFileError } from '../../src/errors.js';
import { catalogue } from '../../src/experiment/catalogue.js';
import { newJournal } from '../../src/experiment/journal.js';
import { loadFile } from '../../src/experiment/schema.js';
import { faults } from '../../src/faults/registry.js';
import { probes } from '../../src/probes/registry.js';
import { reportFormats } from '../../src/report/formats.js';
import { importFailure, loadDescriptionPlugins, loadedPlugins, loadPlugin, loadPlugins, pluginList, pluginsFromEnv } from '../../src/plugins.js';
import { pluginArgs } from '../../src/cli/plugin-flag.js';

let counter = 0;
/** A fresh folder per test: registries are process-wide, so every plugin registers names of its own. */
async function folder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'faultline-plugins-'));
}

/** A plugin registering one fault, one probe and one report format, each named `${prefix}-…`. */
function pluginSource(prefix: string): string {
  return `
/** @type {import('faultline').Plugin} */
export default async function (faultline) {
  const { z } = faultline;
  const calls = (globalThis.__faultlineCalls ??= {});
  calls['${prefix}'] = (calls['${prefix}'] ?? 0) + 1;
  faultline.faults.register({
    name: '${prefix}-fault',
    kind: 'process',
    description: 'a fault from a plugin',
    defaultTarget: 'server=web1',
    params: z.object({ level: faultline.params.integer(1, 5).default(1) }).strict(),
    data: z.object({}),
    plan: async () => ({ targets: [], steps: [], slots: [], data: {} }),
    apply: async () => undefined,
    revert: async () => undefined,
    check: async () => ({ active: false, detail: '' }),
  });
  faultline.probes.register({
    name: '${prefix}-probe',
    description: 'a probe from a plugin',
    params: z.object({}).strict(),
    run: async () => faultline.observation('${prefix}-probe', faultline.startMark(), { value: faultline.version, tolerance: null }),
  });
  faultline.reportFormats.register({ name: '${prefix}-csv', file: '${prefix}.csv', render: (j) => faultline.experimentsOf(j).map((e) => e.id).join(',') });
}
`;
}

async function writePlugin(dir: string, name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

function uniquePrefix(): string {
  counter += 1;
  return `plug${process.pid}x${counter}`;
}

async function rejectsWith(t: import('ava').ExecutionContext, p: Promise<unknown>, pattern: RegExp): Promise<FaultlineError> {
  const err = await t.throwsAsync(p);
  t.true(err instanceof FaultlineError, String(err));
  const e = err as FaultlineError;
  t.is(e.code, 'INVALID_INPUT');
  t.is(e.exitCode, ExitCode.invalidInput);
  t.false(e.message.includes('\n'), `one line: ${e.message}`);
  t.regex(e.message, pattern);
  return e;
}

test('a plugin registers a fault, a probe and a report format into the registries faultline reads', async (t) => {
  const dir = await folder();
  const prefix = uniquePrefix();
  const file = await writePlugin(dir, 'team.mjs', pluginSource(prefix));
  await loadPlugin(file);
  t.true(faults.has(`${prefix}-fault`));
  t.true(probes.has(`${prefix}-probe`));
  t.is(reportFormats.get(`${prefix}-csv`).file, `${prefix}.csv`);
  t.true(loadedPlugins().some((p) => p.endsWith('team.mjs')));
  // The parameter kit works through the plugin's own schema: a CLI string is read as a number, and bounds hold.
  t.deepEqual(faults.configure(`${prefix}-fault`, { params: { level: '3' } }).params, { level: 3 });
  t.throws(() => faults.configure(`${prefix}-fault`, { params: { level: 9 } }), { message: /level/ });
});

test('the same file loaded twice (also through another path to it) registers once', async (t) => {
  const dir = await folder();
  const prefix = uniquePrefix();
  const file = await writePlugin(dir, 'twice.mjs', pluginSource(prefix));
  await mkdir(join(dir, 'sub'));
  await symlink(file, join(dir, 'sub', 'link.mjs'));
  // Counted per plugin: the other tests of this file load theirs at the same time.
  const calls = () => (globalThis as { __faultlineCalls?: Record<string, number> }).__faultlineCalls?.[prefix] ?? 0;
  await Promise.all([loadPlugin(file), loadPlugin(file)]);
  await loadPlugins([join(dir, 'sub', '..', 'twice.mjs'), join(dir, 'sub', 'link.mjs')]);
  t.is(calls(), 1);
  t.true(faults.has(`${prefix}-fault`));
});

test('each way a plugin fails is one INVALID_INPUT line (exit 2) naming the file and the cause', async (t) => {
  const dir = await folder();
  await rejectsWith(t, loadPlugin(join(dir, 'missing.mjs')), /^plugin .*missing\.mjs: not found$/);
  await rejectsWith(t, loadPlugin(dir), /: not a file$/);
  const noDefault = await writePlugin(dir, 'no-default.mjs', 'export const x = 1;\n');
  await rejectsWith(t, loadPlugin(noDefault), /no-default\.mjs: has no default export function/);
  const notFunction = await writePlugin(dir, 'object.mjs', 'export default { faults: [] };\n');
  await rejectsWith(t, loadPlugin(notFunction), /object\.mjs: has no default export function/);
  const throws = await writePlugin(dir, 'throws.mjs', "export default () => { throw new Error('needs FOO set\\nsecond line'); };\n");
  await rejectsWith(t, loadPlugin(throws), /throws\.mjs: needs FOO set$/);
  const rejects = await writePlugin(dir, 'rejects.mjs', "export default async () => { throw new TypeError('bad'); };\n");
  await rejectsWith(t, loadPlugin(rejects), /rejects\.mjs: bad$/);
  const syntax = await writePlugin(dir, 'syntax.mjs', 'export default (faultline => {\n');
  await rejectsWith(t, loadPlugin(syntax), /syntax\.mjs: cannot be imported: syntax error: /);
  const importsMissing = await writePlugin(dir, 'deps.mjs', "import 'no-such-package-for-faultline';\nexport default () => {};\n");
  await rejectsWith(t, loadPlugin(importsMissing), /deps\.mjs: cannot be imported: .*no-such-package-for-faultline/);
  // A second load of a file that failed answers the same failure, and does not run it again.
  await rejectsWith(t, loadPlugin(throws), /throws\.mjs: needs FOO set$/);
});

test('a plugin registering a name that exists is refused, naming the plugin, the kind and the name', async (t) => {
  const dir = await folder();
  const builtIn = await writePlugin(
    dir,
    'clash.mjs',
    "export default (f) => f.faults.register({ name: 'container-kill', kind: 'process', description: '', params: f.z.object({}), data: f.z.object({}) });\n",
  );
  await rejectsWith(t, loadPlugin(builtIn), /clash\.mjs: registers fault "container-kill", which exists already/);
  const prefix = uniquePrefix();
  await loadPlugin(await writePlugin(dir, 'first.mjs', pluginSource(prefix)));
  const second = await writePlugin(dir, 'second.mjs', pluginSource(prefix));
  await rejectsWith(t, loadPlugin(second), /second\.mjs: registers fault "plug\d+x\d+-fault", which exists already/);
  const format = await writePlugin(dir, 'format.mjs', "export default (f) => f.reportFormats.register({ name: 'html', file: 'x.html', render: () => '' });\n");
  await rejectsWith(t, loadPlugin(format), /format\.mjs: registers report format "html", which exists already/);
});

test('a TypeScript plugin without a loader is named as such (pure)', (t) => {
  const err = Object.assign(new TypeError('Unknown file extension ".ts"'), { code: 'ERR_UNKNOWN_FILE_EXTENSION' });
  t.regex(importFailure(err), /TypeScript needs compiling to \.mjs or \.js first/);
  t.regex(importFailure(new SyntaxError('Unexpected token')), /^cannot be imported: syntax error: Unexpected token$/);
});

test('plugins: lists are read from the raw document with ${VAR} replaced; anything else is left to the schema (pure)', (t) => {
  t.deepEqual(pluginList({ plugins: ['./a.mjs', '${DIR}/b.mjs', '${X:-c}.mjs'] }, { DIR: '/opt' }), ['./a.mjs', '/opt/b.mjs', 'c.mjs']);
  t.deepEqual(pluginList({ plugins: './a.mjs' }, {}), []);
  t.deepEqual(pluginList({ plugins: [1] }, {}), []);
  t.deepEqual(pluginList({ plugins: ['${UNSET}/a.mjs'] }, {}), []);
  t.deepEqual(pluginList(undefined, {}), []);
  t.deepEqual(pluginsFromEnv({ FAULTLINE_PLUGINS: 'a.mjs: b.mjs::' }, ':'), ['a.mjs', 'b.mjs']);
  t.deepEqual(pluginsFromEnv({}, ':'), []);
});

const experiment = (prefix: string, plugins: string) => `title: uses a plugin
${plugins}
load: { rate: 10, duration: 10s }
steady_state:
  - probe: ${prefix}-probe
method:
  - fault: ${prefix}-fault
    params: { level: 2 }
    at: 2s
    for: 2s
`;

test("an experiment file's plugins are imported before it is validated, relative to the file", async (t) => {
  const dir = await folder();
  const prefix = uniquePrefix();
  await mkdir(join(dir, 'plugins'));
  await writePlugin(join(dir, 'plugins'), 'team.mjs', pluginSource(prefix));
  await writeFile(join(dir, 'exp.yaml'), experiment(prefix, 'plugins: [./plugins/team.mjs]'));
  // The catalogue is made before the file is read, as validate and run make it: it sees what the plugin registered.
  const loaded = await loadFile(join(dir, 'exp.yaml'), catalogue(), {});
  t.false('suite' in loaded);
  if (!('suite' in loaded)) t.deepEqual(loaded.plugins, ['./plugins/team.mjs']);
});

test('unknown names are still refused next to a plugin, with the nearest known one', async (t) => {
  const dir = await folder();
  const prefix = uniquePrefix();
  await writePlugin(dir, 'team.mjs', pluginSource(prefix));
  await writeFile(join(dir, 'exp.yaml'), experiment(prefix, 'plugins: [./team.mjs]').replace(`fault: ${prefix}-fault`, `fault: ${prefix}-falt`));
  const err = await t.throwsAsync(loadFile(join(dir, 'exp.yaml'), catalogue(), {}));
  t.true(err instanceof InvalidFileError);
  t.regex(err!.message, new RegExp(`method\\[0\\]\\.fault: unknown fault "${prefix}-falt"; did you mean ${prefix}-fault\\?`));
  // The plugin's parameter checks apply too.
  await writeFile(join(dir, 'exp2.yaml'), experiment(prefix, 'plugins: [./team.mjs]').replace('level: 2', 'level: 7'));
  await t.throwsAsync(loadFile(join(dir, 'exp2.yaml'), catalogue(), {}), { message: /method\[0\]\.params: .*level/ });
});

test("an experiment's plugin that fails is the file's problem: one line naming the file, the entry and the plugin", async (t) => {
  const dir = await folder();
  await writeFile(join(dir, 'exp.yaml'), experiment('none', 'plugins: [./nope.mjs]'));
  const err = (await t.throwsAsync(loadFile(join(dir, 'exp.yaml'), catalogue(), {}))) as InvalidFileError;
  t.true(err instanceof InvalidFileError);
  t.is(err.exitCode, ExitCode.invalidInput);
  t.is(err.message.split('\n').length, 1);
  t.regex(err.message, /exp\.yaml: plugins\[0\]: plugin .*nope\.mjs: not found$/);
});

test("a suite's experiments each bring their plugins, and a failing one is named under its suite entry", async (t) => {
  const dir = await folder();
  const [a, b] = [uniquePrefix(), uniquePrefix()];
  await writePlugin(dir, 'a.mjs', pluginSource(a));
  await writePlugin(dir, 'b.mjs', pluginSource(b));
  await writeFile(join(dir, 'one.yaml'), experiment(a, 'plugins: [./a.mjs]'));
  await writeFile(join(dir, 'two.yaml'), experiment(b, 'plugins: [./b.mjs]'));
  await writeFile(join(dir, 'suite.yaml'), 'title: both\nsuite: [one.yaml, two.yaml]\n');
  const suite = await loadFile(join(dir, 'suite.yaml'), catalogue(), {});
  t.true('suite' in suite && suite.experiments.length === 2);
  await writeFile(join(dir, 'three.yaml'), experiment(a, 'plugins: [./missing.mjs]'));
  await writeFile(join(dir, 'bad-suite.yaml'), 'title: bad\nsuite: [one.yaml, three.yaml]\n');
  await t.throwsAsync(loadFile(join(dir, 'bad-suite.yaml'), catalogue(), {}), {
    message: /suite\[1\]: three\.yaml: plugins\[0\]: plugin .*missing\.mjs: not found/,
  });
});

test("a stack description's plugins load with the experiment that names it, and with --stack", async (t) => {
  const dir = await folder();
  const [viaFile, viaInline, viaFlag] = [uniquePrefix(), uniquePrefix(), uniquePrefix()];
  await mkdir(join(dir, 'stack'));
  await writePlugin(join(dir, 'stack'), 'ops.mjs', pluginSource(viaFile));
  await writePlugin(dir, 'inline.mjs', pluginSource(viaInline));
  const description = 'project: shop\nendpoint: { url: "https://127.0.0.1:9443", insecure: true }\nplugins: [./ops.mjs]\n';
  await writeFile(join(dir, 'stack', 'shop.stack.yaml'), description);
  await writeFile(join(dir, 'exp.yaml'), experiment(viaFile, 'stack: { file: stack/shop.stack.yaml }'));
  const exp = await loadFile(join(dir, 'exp.yaml'), catalogue(), {});
  t.true(!('suite' in exp) && exp.stackSpec?.plugins.length === 1);
  const inline = `stack:\n  description:\n    project: shop\n    endpoint: { url: "https://127.0.0.1:9443", insecure: true }\n    plugins: [./inline.mjs]`;
  await writeFile(join(dir, 'inline.yaml'), experiment(viaInline, inline));
  await t.notThrowsAsync(loadFile(join(dir, 'inline.yaml'), catalogue(), {}));
  // --stack FILE: the description's plugins, relative to it; a failure is named under "stack".
  await writePlugin(dir, 'flag.mjs', pluginSource(viaFlag));
  await writeFile(join(dir, 'flag.stack.yaml'), description.replace('./ops.mjs', './flag.mjs'));
  await loadDescriptionPlugins(join(dir, 'flag.stack.yaml'), {});
  t.true(faults.has(`${viaFlag}-fault`));
  await writeFile(join(dir, 'bad.stack.yaml'), description.replace('./ops.mjs', './gone.mjs'));
  await t.throwsAsync(loadDescriptionPlugins(join(dir, 'bad.stack.yaml'), {}), {
    message: /bad\.stack\.yaml: stack\.plugins\[0\]: plugin .*gone\.mjs: not found$/,
  });
  await t.notThrowsAsync(loadDescriptionPlugins(join(dir, 'unreadable.stack.yaml'), {}), 'an unreadable description is its loader’s to report');
});

test('the command line: --plugin before or after the command, repeatable, after FAULTLINE_PLUGINS; --stack or FAULTLINE_STACK (pure)', (t) => {
  t.deepEqual(pluginArgs(['--plugin', 'a.mjs', 'fault', 'list', '--plugin=b.mjs', '--json'], {}), { plugins: ['a.mjs', 'b.mjs'], stack: undefined });
  t.deepEqual(pluginArgs(['run', 'x.yaml', '--out', 'dir', '--plugin', 'c.mjs', '--stack', 's.yaml'], { FAULTLINE_PLUGINS: 'e.mjs' }), {
    plugins: ['e.mjs', 'c.mjs'],
    stack: 's.yaml',
  });
  t.deepEqual(pluginArgs(['probe', 'health'], { FAULTLINE_STACK: 'env.yaml' }), { plugins: [], stack: 'env.yaml' });
  t.deepEqual(pluginArgs(['run', '--', '--plugin', 'x.mjs'], {}), { plugins: [], stack: undefined }, 'after --, nothing is an option');
  t.notThrows(() => pluginArgs(['fault', 'list', '--plugin'], {}), 'a missing value is the real parse’s to report');
});

test('the example plugin registers its fault, probe and csv format, and its example experiment validates with them', async (t) => {
  const example = new URL('../../examples/plugins/', import.meta.url);
  const loaded = await loadFile(fileURLToPath(new URL('maintenance-page.yaml', example)), catalogue(), {});
  t.true(!('suite' in loaded) && loaded.plugins.length === 1);
  t.is(faults.get('maintenance-page').defaultTarget, 'random:role=web');
  t.deepEqual(faults.configure('maintenance-page', { params: { health: 'false' } }).params, { health: false });
  t.true(probes.has('maintenance-seen'));
  const csv = reportFormats.get('csv');
  t.is(csv.file, 'report.csv');
  const journal = newJournal({ id: 'x', title: 'x', description: '', file: 'x.yaml' }, {}, '2026-01-01T00:00:00.000Z');
  journal.method.push({
    kind: 'fault',
    name: 'maintenance-page',
    phase: 'method',
    status: 'failed',
    start: 's',
    end: 'e',
    startMs: 1.4,
    error: 'a "quoted", message',
  });
  t.is(
    csv.render(journal),
    'experiment,phase,kind,name,status,start,end,start_ms,end_ms,target,error\r\nx,method,fault,maintenance-page,failed,s,e,1,,,"a ""quoted"", message"\r\n',
  );
});

test("the example fault's configuration keeps the real one, answers the page first and keeps /health on request (pure)", async (t) => {
  // By URL, as faultline imports a plugin (the test's TypeScript knows nothing of the .mjs).
  const example = new URL('../../examples/plugins/maintenance-page.mjs', import.meta.url).href;
  const { maintenanceConfig } = (await import(example)) as { maintenanceConfig: (conf: string, health: boolean) => string | undefined };
  const conf = await readFile(new URL('../../compose/images/web/nginx.conf', import.meta.url), 'utf8');
  const page = maintenanceConfig(conf, true)!;
  t.true(page.startsWith('# faultline plugin maintenance-page: in effect\n'));
  t.true(page.includes(conf.slice(conf.indexOf('proxy_pass http://app;'))), 'the original location follows, unchanged');
  t.regex(page, /location = \/health \{\n\s+proxy_pass http:\/\/app;\n\s+\}\n\s+location \/ \{\n\s+default_type text\/html;[\s\S]*return 503 '/);
  t.false(maintenanceConfig(conf, false)!.includes('location = /health'));
  t.is(maintenanceConfig('server { listen 80; }', true), undefined);
});
