// The public entry point (src/index.ts, `import … from 'faultline'`): it holds what a user's test suite needs, and the
// README's "Use it from TypeScript" example is the code test/integration/library-example.test.ts runs, word for word
// but for where it imports from, so the README cannot drift from code that works.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import * as faultline from '../../src/index.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFile(new URL(path, root), 'utf8');

/** The README's TypeScript block under "## Use it from TypeScript". */
async function readmeExample(): Promise<string> {
  const readme = await read('README.md');
  const section = readme.split('\n## Use it from TypeScript\n')[1]?.split('\n## ')[0];
  const block = section?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (block === undefined) throw new Error('README.md has no ```ts block under "## Use it from TypeScript"');
  return block;
}

/** The integration test as the README shows it: its imports (from 'faultline') and the block between its markers. */
async function testExample(): Promise<string> {
  const source = await read('test/integration/library-example.test.ts');
  const imports = source
    .split('\n')
    .filter((l) => l.startsWith('import '))
    .map((l) => l.replace(`from '../../src/index.js'`, `from 'faultline'`));
  const block = source.split('// README example: begin\n')[1]?.split('// README example: end\n')[0];
  if (block === undefined) throw new Error('library-example.test.ts has no "// README example: begin/end" block');
  return `${imports.join('\n')}\n\n${block}`;
}

test('the README example is the integration test, word for word but for its import path', async (t) => {
  t.is(await readmeExample(), await testExample());
});

test('the README example imports from the entry point only, and each name it imports is exported there', async (t) => {
  const example = await readmeExample();
  const entry = example.match(/import \{([^}]*)\} from 'faultline';/);
  t.truthy(entry, 'one import from faultline');
  const names = entry![1]!.split(',').map((n) => n.trim());
  t.true(names.length > 0);
  for (const name of names) t.true(name in faultline, `${name} is exported by src/index.ts`);
  t.deepEqual(
    [...example.matchAll(/from '([^']+)'/g)].map((m) => m[1]),
    ['ava', 'faultline'],
  );
});

test('the entry point holds a function for every step of a run and the registries to extend', (t) => {
  const functions = [
    'attachStack',
    'startLoad',
    'runLoad',
    'createFaultContext',
    'defaultRegistry',
    'injectFault',
    'holdFault',
    'revertRecorded',
    'injectUnderLoad',
    'checkStop',
    'runProbe',
    'loadFile',
    'validateExperiment',
    'runFile',
    'writeReports',
    'renderMarkdown',
  ] as const;
  for (const name of functions) t.is(typeof faultline[name], 'function', name);
  for (const name of ['ReferenceStack', 'AttachedStack', 'ExperimentRunner', 'Registry', 'FaultlineError', 'FaultRegistry'] as const) {
    t.is(typeof faultline[name], 'function', `${name} (a class)`);
  }
  t.true(faultline.faults instanceof faultline.Registry);
  t.true(faultline.probes instanceof faultline.Registry);
  t.true(faultline.reportFormats instanceof faultline.Registry);
  t.is(faultline.ExitCode.ok, 0);
  t.true(faultline.faults.list().some((f) => f.name === 'container-pause'));
});
