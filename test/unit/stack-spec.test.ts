// Stack descriptions: what a user writes is checked field by field before anything is touched, services are mapped
// where labels are missing, and the reference stack's own description is one of them.

import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackSpec, missingServices, parseStackSpec, roleOf } from '../../src/stack/spec.js';
import { referenceSpecFile, referenceVars } from '../../src/stack/reference-stack.js';
import { withRoles } from '../../src/stack/attached-stack.js';
import { resolveStackOptions } from '../../src/stack/config.js';
import { loadFile, type Experiment } from '../../src/experiment/schema.js';
import type { ContainerSummary } from '../../src/stack/docker-types.js';
import { containerSummary } from '../helpers/fake-docker.js';
import { InvalidFileError } from '../../src/errors.js';

const minimal = { project: 'shop', endpoint: { url: 'https://127.0.0.1:9443', insecure: true } };

function problemsOf(raw: unknown, vars: Record<string, string> = {}): string[] {
  try {
    parseStackSpec(raw, '/x/shop.stack.yaml', vars);
    return [];
  } catch (err) {
    if (!(err instanceof InvalidFileError)) throw err;
    return err.message.split('\n');
  }
}

test('the reference description parses with the stack options filled in, and keeps the firewall policy it had in code', async (t) => {
  const o = resolveStackOptions({ project: 'flx', httpsPort: 9001, home: '/h' });
  const spec = await loadStackSpec(referenceSpecFile, referenceVars(o));
  t.is(spec.project, 'flx');
  t.is(spec.endpoint.url, 'https://localhost:9001');
  t.is(spec.endpoint.ca, '/h/flx/tls/ca.pem');
  t.is(spec.exposure.networks.internal, 'flx_internal');
  t.is(spec.exposure.policy.length, 12);
  t.deepEqual(
    spec.readback.map((r) => r.sql?.db),
    ['primary', 'replica'],
  );
  t.deepEqual(spec.firewall, { table: 'inet faultline', chain: 'input' });
});

test('every problem of a description is one line naming the file and the field', (t) => {
  const lines = problemsOf({
    project: 'Shop!',
    endpoint: { url: 'https://127.0.0.1:9443' },
    readback: [{ sql: { db: 'nosuch', query: 'DELETE FROM orders' } }],
    databases: { store: { service: 'store', user: 'r' } },
  });
  t.true(lines.every((l) => l.startsWith('/x/shop.stack.yaml: stack')));
  t.true(lines.some((l) => /stack\.project: lowercase/.test(l)));
  t.true(lines.some((l) => /stack\.endpoint\.ca: an https URL needs the CA/.test(l)));
  t.true(lines.some((l) => /stack\.readback\[0\]\.sql\.query: must be a SELECT/.test(l)));
  t.true(lines.some((l) => /stack\.databases\.store\.password_env: give password_env/.test(l)));
  t.deepEqual(problemsOf({ ...minimal, endpoint: { ...minimal.endpoint, ca: 'ca.pem' } }), [
    '/x/shop.stack.yaml: stack.endpoint.insecure: give either ca or insecure: true, not both',
  ]);
  t.true(problemsOf({ ...minimal, readback: [{ sql: { db: 'store', query: 'SELECT 1' } }] })[0]!.includes('no database "store" in databases'));
  t.true(problemsOf({ ...minimal, surprise: 1 })[0]!.includes('unknown field "surprise"'));
});

test('${VAR} comes from the environment, while the workload templates ${key}, ${id}, ${seq} and ${prefix} are kept for each request', (t) => {
  const spec = parseStackSpec(
    {
      project: '${P:-shop}',
      endpoint: { url: 'https://127.0.0.1:${PORT}', ca: 'ca.pem' },
      workload: { requests: { place: { method: 'POST', path: '/o/${seq}', body: '{"ref":"${key}","by":"${WHO:-me}"}', write: true } } },
    },
    '/x/shop.stack.yaml',
    { PORT: '9555' },
  );
  t.is(spec.project, 'shop');
  t.is(spec.endpoint.url, 'https://127.0.0.1:9555');
  t.is(spec.endpoint.ca, '/x/ca.pem', 'relative to the description');
  t.is(spec.workload!.requests.place!.path, '/o/${seq}');
  t.is(spec.workload!.requests.place!.body, '{"ref":"${key}","by":"me"}');
  t.true(problemsOf({ ...minimal, workload: { requests: { w: { method: 'POST', path: '/o', write: true } } } })[0]!.includes('a write must send its ${key}'));
});

const container = (service: string, extra: Partial<ContainerSummary> = {}): ContainerSummary =>
  containerSummary({ id: `${service}-id`, name: `shop-${service}-1`, service, networkMode: 'shop_back', ...extra });

test('services map to role, server and component where labels are missing; labels win; a service that is its own machine is its host', (t) => {
  const spec = parseStackSpec(
    { ...minimal, services: { store: { role: 'db-primary', component: 'mariadb' }, api: { role: 'web', server: 'box', component: 'app' } } },
    '<inline>',
    {},
  );
  t.deepEqual(roleOf(spec, 'store', { role: undefined, server: undefined, component: undefined }), {
    role: 'db-primary',
    server: 'store',
    component: 'mariadb',
  });
  t.deepEqual(roleOf(spec, 'store', { role: 'lb', server: undefined, component: undefined }).role, 'lb');
  const list = withRoles(
    [
      container('store'),
      container('api'),
      container('sidecar', {
        networkMode: 'container:api-id',
        labels: { 'faultline.server': 'box', 'faultline.component': 'proxy' },
        server: 'box',
        component: 'proxy',
      }),
      container('other'),
    ],
    spec,
  );
  const by = Object.fromEntries(list.map((c) => [c.service, c]));
  t.like(by.store, { role: 'db-primary', server: 'store', component: 'mariadb', host: true });
  t.like(by.api, { server: 'box', host: true });
  t.like(by.sidecar, { server: 'box', host: false }, 'it joined the api namespace');
  t.like(by.other, { role: undefined, server: undefined, host: false }, 'unmapped, unlabelled: not a server');
});

test('services, databases and Prometheus the project lacks are named one per line', (t) => {
  const spec = parseStackSpec(
    {
      ...minimal,
      services: { store: { role: 'db-primary' }, apii: { role: 'web' } },
      databases: { main: { service: 'db', user: 'r', password_env: 'P' } },
      prometheus: { service: 'prom' },
    },
    '<inline>',
    {},
  );
  t.deepEqual(
    missingServices(spec, ['store', 'api', 'gate']).map((p) => `${p.path}: ${p.message}`),
    [
      'services.apii: project shop has no service "apii" (services: api, gate, store)',
      'databases.main.service: project shop has no service "db" (services: api, gate, store)',
      'prometheus.service: project shop has no service "prom" (services: api, gate, store)',
    ],
  );
});

test("an experiment's stack.file is read relative to it and its problems are the experiment's; inline descriptions too", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-spec-'));
  await writeFile(join(dir, 'shop.stack.yaml'), 'project: shop\nendpoint: { url: "https://127.0.0.1:9443", insecure: true }\n');
  const base = 'title: t\nload: { rate: 10, duration: 5s, warmup: 1s }\nmethod: [{ probe: health }]\n';
  await writeFile(join(dir, 'good.yaml'), `${base}stack: { file: shop.stack.yaml }\n`);
  const good = (await loadFile(join(dir, 'good.yaml'), undefined)) as Experiment;
  t.is(good.stackSpec?.project, 'shop');
  await writeFile(join(dir, 'bad.yaml'), `${base}stack: { file: missing.stack.yaml }\n`);
  await t.throwsAsync(loadFile(join(dir, 'bad.yaml'), undefined), { message: /bad\.yaml: stack\.file: cannot read .*missing\.stack\.yaml: ENOENT/ });
  await writeFile(join(dir, 'inline.yaml'), `${base}stack: { description: { project: shop, endpoint: { url: "not a url", insecure: true } } }\n`);
  await t.throwsAsync(loadFile(join(dir, 'inline.yaml'), undefined), { message: /inline\.yaml: stack\.description\.endpoint\.url: / });
  await writeFile(join(dir, 'both.yaml'), `${base}stack: { file: shop.stack.yaml, bring_up: true }\n`);
  await t.throwsAsync(loadFile(join(dir, 'both.yaml'), undefined), { message: /stack\.bring_up: a described stack is attached, not brought up/ });
});
