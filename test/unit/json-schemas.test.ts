// The editor schemas (schemas/*.schema.json) and `faultline validate` agree: on every shipped experiment, suite and
// stack description, and on test/fixtures/schema/ (files each breaking one rule), ajv's verdict is validate's verdict.
// Where validate refuses what a JSON Schema cannot say (checks across fields, the catalogue's names and parameters,
// a duration's range), the case is a named exception below, and the test checks that those are the only ones.

import test from 'ava';
import { Ajv, type ValidateFunction } from 'ajv';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogue } from '../../src/experiment/catalogue.js';
import { isSuite, loadFile } from '../../src/experiment/schema.js';
import { jsonSchemas, schemaFileName, SCHEMA_KINDS, type SchemaKind } from '../../src/experiment/json-schemas.js';
import { loadStackSpec } from '../../src/stack/spec.js';
import { readYaml } from '../../src/util/yaml.js';
import { expectedSchemaFiles, schemasDir, shippedSchemaInputs } from '../../scripts/schemas.js';
import { shippedSchemaPath } from '../../src/cli/commands/schema.js';
import { runCli } from '../helpers/stack.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'test/fixtures/schema');
/**
 * The built-in faults and probes, taken before any test runs: validating examples/plugins/ registers the plugin's
 * names in this process, and the committed schemas are made without them.
 */
const builtIn = shippedSchemaInputs();
/** No variable is set: every file must validate on its defaults alone, the same on every machine. */
const ENV = {};

/** validate refuses these, the schema accepts them: why the schema cannot say so. */
const KNOWN_EXCEPTIONS: Record<string, string> = {
  'exception.experiment.fault-after-load.yaml': 'a fault must end before the load does: at + for against load.duration, across fields',
  'exception.experiment.unknown-fault.yaml': 'fault names are open (plugins register more at run time); the catalogue knows the registered ones',
  'exception.experiment.bad-fault-param-value.yaml': 'a parameter\'s value: read as the command line gives it ("30%", "3306") by the fault\'s own schema',
  'exception.experiment.at-and-every.yaml': 'at most one of at, every, during: a refinement across keys',
  'exception.experiment.assertion-without-bound.yaml': 'an assertion needs one of max, min, equals: a refinement across keys',
  'exception.experiment.duration-out-of-range.yaml': "a duration string's range (25h is more than a day): the schema checks its form only",
  'exception.experiment.warmup-too-long.yaml': 'warmup shorter than duration: two durations compared',
  'exception.experiment.paced-without-rate.yaml': 'the paced driver (the default) needs a rate: a default and a key together',
  'exception.experiment.bad-tolerance.yaml': "a tolerance's shorthands are read by the probe tolerance parser (regexes must compile)",
  'exception.suite.missing-file.yaml': 'a suite lists files: whether they exist and are valid experiments is on disk',
  'exception.stack.https-without-ca.yaml': 'an https URL needs ca or insecure: a refinement across keys',
  'exception.stack.readback-undeclared-db.yaml': "a read-back's db names a key of databases: a reference across the document",
};

interface Case {
  file: string;
  kind: SchemaKind;
}

async function yamlFiles(dir: string, recursive = false): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && recursive) out.push(...(await yamlFiles(join(dir, e.name), true)));
    else if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(join(dir, e.name));
  }
  return out.sort();
}

const rawOf = async (file: string): Promise<unknown> => {
  const read = readYaml(await readFile(file, 'utf8'));
  if ('problems' in read) throw new Error(`${file}: ${read.problems.map((p) => p.message).join('; ')}`);
  return read.data;
};

/** Shipped files and examples: experiments and suites (by their `suite` key), the stack descriptions users start from. */
async function shippedCases(): Promise<Case[]> {
  const documents = [
    ...(await yamlFiles(join(root, 'experiments'), true)),
    ...(await yamlFiles(join(root, 'examples'), true)),
    ...(await yamlFiles(join(root, 'test/fixtures/shop/experiments'))),
  ];
  const stacks = [...(await yamlFiles(join(root, 'compose'))), ...(await yamlFiles(join(root, 'test/fixtures/shop')))].filter((f) => f.endsWith('.stack.yaml'));
  const cases: Case[] = [];
  for (const file of documents) cases.push({ file, kind: isSuite(await rawOf(file)) ? 'suite' : 'experiment' });
  return [...cases, ...stacks.map((file) => ({ file, kind: 'stack' as const }))];
}

/** Fixtures: <kind>.<case>.yaml, or exception.<kind>.<case>.yaml. */
async function fixtureCases(): Promise<Case[]> {
  return (await yamlFiles(fixtures)).map((file) => ({
    file,
    kind: basename(file)
      .replace(/^exception\./, '')
      .split('.')[0] as SchemaKind,
  }));
}

function validators(schemas: Record<SchemaKind, object>): Record<SchemaKind, ValidateFunction> {
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  // zod's url() is what the URL parser accepts; the schema says format: uri.
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  return Object.fromEntries(SCHEMA_KINDS.map((k) => [k, ajv.compile(schemas[k])])) as Record<SchemaKind, ValidateFunction>;
}

async function validateVerdict(c: Case): Promise<{ ok: boolean; why: string }> {
  try {
    if (c.kind === 'stack') await loadStackSpec(c.file, ENV);
    else await loadFile(c.file, catalogue(), ENV);
    return { ok: true, why: '' };
  } catch (err) {
    if ((err as { code?: string }).code !== 'INVALID_INPUT') throw err;
    return { ok: false, why: (err as Error).message };
  }
}

test('the committed schemas are the ones the zod schemas make (else: npm run schemas)', async (t) => {
  const expected = await expectedSchemaFiles(builtIn);
  for (const kind of SCHEMA_KINDS) {
    const onDisk = await readFile(join(schemasDir, schemaFileName(kind)), 'utf8').catch(() => '');
    t.true(onDisk === expected[kind], `schemas/${schemaFileName(kind)} is stale: run npm run schemas`);
    // `faultline schema KIND` prints this file, from the package's own folder.
    t.is(shippedSchemaPath(kind), join(schemasDir, schemaFileName(kind)));
  }
});

test('the schemas describe the YAML a user writes: draft-07, an $id and a title, durations as strings, defaults optional', (t) => {
  const schemas = jsonSchemas(builtIn);
  for (const kind of SCHEMA_KINDS) {
    const s = schemas[kind] as Record<string, unknown>;
    t.is(s.$schema, 'http://json-schema.org/draft-07/schema#');
    t.regex(String(s.$id), new RegExp(`/${kind}\\.schema\\.json$`));
    t.truthy(s.title);
  }
  const exp = schemas.experiment as { required: string[]; properties: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
  t.deepEqual(exp.required, ['title', 'load', 'method']);
  t.deepEqual(exp.properties.load!.required, ['duration']);
  const { description: _words, ...warmup } = exp.properties.load!.properties!.warmup as Record<string, unknown>;
  t.deepEqual(warmup, { $ref: '#/definitions/duration', default: '3s' });
  const duration = (schemas.experiment as { definitions: Record<string, { anyOf: unknown[] }> }).definitions.duration!;
  t.deepEqual(duration.anyOf[0], { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$' });
});

test('ajv and validate agree on every shipped file and fixture, except the documented cases', async (t) => {
  const validate = validators(jsonSchemas(builtIn));
  const cases = [...(await shippedCases()), ...(await fixtureCases())];
  t.true(cases.length > 60, `${cases.length} files`);
  const disagreements: string[] = [];
  for (const c of cases) {
    const name = relative(root, c.file);
    const schemaOk = validate[c.kind](await rawOf(c.file));
    const { ok, why } = await validateVerdict(c);
    const fixture = c.file.startsWith(fixtures) ? basename(c.file) : undefined;
    // Every fixture says what it is: valid ones are named valid, exceptions are refused by validate, the rest by both.
    if (fixture && !fixture.startsWith('exception.')) t.is(ok, fixture.includes('.valid-'), `${name}: validate says ${ok ? 'ok' : why}`);
    if (schemaOk === ok) continue;
    disagreements.push(fixture ?? name);
    t.true(!ok && schemaOk, `${name}: the schema refuses a file validate accepts: ${JSON.stringify(validate[c.kind].errors)}`);
  }
  t.deepEqual(disagreements.sort(), Object.keys(KNOWN_EXCEPTIONS).sort());
});

test('every shipped experiment, suite and stack description names its schema for the editor', async (t) => {
  // The shop fixture's experiments are the tests' own; its description is the example the README points users to.
  for (const c of (await shippedCases()).filter((c) => !c.file.includes('/test/fixtures/shop/experiments/'))) {
    const first = (await readFile(c.file, 'utf8')).split('\n')[0]!;
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    if (!m) {
      t.fail(`${relative(root, c.file)}: first line is not the yaml-language-server schema comment`);
      continue;
    }
    t.is(resolve(dirname(c.file), m[1]!), join(schemasDir, schemaFileName(c.kind)), relative(root, c.file));
  }
});

test('faultline schema KIND prints the shipped schema, --path where it is; another kind is invalid input', async (t) => {
  const printed = await runCli(['schema', 'stack']);
  t.is(printed.code, 0, printed.stderr);
  t.is(printed.stdout, await readFile(join(schemasDir, 'stack.schema.json'), 'utf8'));
  const path = await runCli(['schema', 'experiment', '--path']);
  t.is(path.stdout, `${join(schemasDir, 'experiment.schema.json')}\n`);
  const unknown = await runCli(['schema', 'workload']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /kind: unknown "workload" \(one of experiment, suite, stack\)/);
});
