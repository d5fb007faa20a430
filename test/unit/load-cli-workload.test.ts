// Where a workload comes from: `faultline load --workload FILE` (YAML or JSON, errors naming the file and the field),
// a stack description's workload handed to the command's core, and `load.workload` / `load.mix` in an experiment.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadInputFromFlags, readWorkloadFile } from '../../src/cli/commands/load.js';
import { InvalidFileError, validateExperiment } from '../../src/experiment/schema.js';
import { catalogue } from '../../src/experiment/catalogue.js';
import { validateLoadOptions } from '../../src/load/index.js';
import { parseWorkload } from '../../src/load/workload-spec.js';

const url = 'http://127.0.0.1:8080/';

function tempFile(t: import('ava').ExecutionContext, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-workload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const SHOP_YAML = `
requests:
  place:
    method: POST
    path: /orders
    body: '{"ref":"\${key}"}'
    write: true
    id: order.order_id
    expect: 201
  lookup:
    path: /orders/\${id}
mix: lookup=8,place=2
`;

test('--workload reads YAML or JSON; --mix names its requests; without --mix its own mix', (t) => {
  const file = tempFile(t, 'shop.yaml', SHOP_YAML);
  const input = loadInputFromFlags(url, { workload: file, mix: 'place=2,lookup=8', rate: '10' });
  const o = validateLoadOptions(input);
  t.deepEqual(o.mix, [
    { kind: 'place', weight: 2 },
    { kind: 'lookup', weight: 8 },
  ]);
  t.deepEqual(o.workload?.place?.expect, 201);
  t.deepEqual(
    validateLoadOptions(loadInputFromFlags(url, { workload: file })).mix?.map((e) => e.kind),
    ['lookup', 'place'],
  );
  const json = tempFile(t, 'w.json', JSON.stringify(YAML.parse(SHOP_YAML)));
  t.deepEqual(readWorkloadFile(json), readWorkloadFile(file));
});

test("a stack description's workload is the default; --workload FILE wins over it", (t) => {
  const fromStack = parseWorkload({ requests: { ping: { path: '/ping' } }, mix: 'ping=1' });
  t.deepEqual(validateLoadOptions(loadInputFromFlags(url, {}, fromStack)).mix, [{ kind: 'ping', weight: 1 }]);
  const file = tempFile(t, 'shop.yaml', SHOP_YAML);
  t.deepEqual(Object.keys(validateLoadOptions(loadInputFromFlags(url, { workload: file }, fromStack)).workload ?? {}), ['lookup', 'place']);
});

test('a bad workload file: one line naming the file and the field', (t) => {
  const bad = tempFile(t, 'bad.yaml', 'requests:\n  place:\n    method: POST\n    path: orders\n    write: true\n');
  t.is(
    t.throws(() => loadInputFromFlags(url, { workload: bad }))?.message,
    `workload: ${bad}: requests.place.path: must start with /; requests.place.path: a write must send its \${key} (in the path or the body), so that it can be read back`,
  );
  const broken = tempFile(t, 'broken.yaml', 'requests: [\n');
  t.regex(t.throws(() => loadInputFromFlags(url, { workload: broken }))?.message ?? '', new RegExp(`^workload: ${broken} is neither YAML nor JSON: `));
  const file = tempFile(t, 'shop.yaml', SHOP_YAML);
  t.is(
    t.throws(() => validateLoadOptions(loadInputFromFlags(url, { workload: file, mix: 'read=1' })))?.message,
    'mix: unknown request "read" (requests: place, lookup)',
  );
});

const problemsOf = (load: string): string[] => {
  try {
    validateExperiment(YAML.parse(`title: x\nload: ${load}\nmethod:\n  - probe: health\n    at: 1s\n`), 'x.yaml', catalogue(), {});
  } catch (err) {
    if (err instanceof InvalidFileError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
};

test('experiments: load.mix takes any request names, load.workload inline is checked against it', (t) => {
  t.deepEqual(problemsOf('{ driver: paced, rate: 10, duration: 10s, mix: "place-order=2,look_up=8" }'), []);
  t.deepEqual(
    problemsOf(
      `{ driver: paced, rate: 10, duration: 10s, mix: "place=1,read=1", workload: { requests: { place: { method: POST, path: "/o", body: "\${key}", write: true } } } }`,
    ),
    ['load.mix: unknown request "read" (requests: place)'],
  );
  t.deepEqual(problemsOf('{ driver: paced, rate: 10, duration: 10s, workload: { preset: reference, requests: { x: { path: "y" } } } }'), [
    'load.workload.requests.x.path: must start with /',
  ]);
  t.deepEqual(problemsOf('{ driver: paced, rate: 10, duration: 10s, mix: "read=1", path: /whoami }'), [
    "load.path: give a mix or a path, not both: a mix's requests carry their own paths",
  ]);
  // The grammar of --mix: names in any case, read as lowercase (load-mix-grammar.test.ts).
  t.deepEqual(problemsOf('{ driver: paced, rate: 10, duration: 10s, mix: "Read=1" }'), []);
  t.deepEqual(problemsOf('{ driver: paced, rate: 10, duration: 10s, mix: "read=1,read=2" }'), ['load.mix: read is given twice']);
});
