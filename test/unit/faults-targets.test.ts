// Target expressions and selection, pure: what parseTarget accepts and refuses, which containers select
// picks, and how resolveContainers tells an unknown target from one outside the stack (a fake Docker).

import test from 'ava';
import { parseTarget, select, resolveContainers, resolveServers } from '../../src/faults/targets.js';
import type { ContainerSummary } from '../../src/stack/docker-client.js';
import { FaultlineError } from '../../src/errors.js';
import { FakeDocker, fakeContext, stackLabels } from '../helpers/fake-docker.js';

const parses: Array<[string, ReturnType<typeof parseTarget>['pick'], Array<[string, string]>, number?]> = [
  ['server=web1', 'one', [['server', 'web1']]],
  ['all:role=web', 'all', [['role', 'web']]],
  ['random:component=nginx', 'random', [['component', 'nginx']]],
  ['web2-app', 'one', [['name', 'web2-app']]],
  [
    ' role = web , component = nginx ',
    'one',
    [
      ['role', 'web'],
      ['component', 'nginx'],
    ],
  ],
  ['all', 'all', []],
  ['random:', 'random', []],
  ['count:2:role=web', 'count', [['role', 'web']], 2],
  [
    'percent:50:role=web,component=nginx',
    'percent',
    [
      ['role', 'web'],
      ['component', 'nginx'],
    ],
    50,
  ],
  ['count:1', 'count', [], 1],
  ['percent:100:', 'percent', [], 100],
  ['counter-app', 'one', [['name', 'counter-app']]],
];
for (const [expr, pick, match, n] of parses) {
  test(`parseTarget "${expr}" → ${pick}${n === undefined ? '' : ` ${n}`} ${JSON.stringify(match)}`, (t) => {
    const s = parseTarget(expr);
    t.is(s.pick, pick);
    t.is(s.n, n);
    t.deepEqual(s.match, match);
    t.is(s.source, expr.trim());
  });
}

const refused: Array<[string, RegExp]> = [
  ['host=web1', /unknown key "host"/],
  ['server=', /empty value for server/],
  ['', /selects nothing/],
  [' , ', /selects nothing/],
  ['count:0:role=web', /count takes how many to pick, a whole number of 1 or more/],
  ['count:role=web', /count takes how many/],
  ['count', /count takes how many/],
  ['count:-1:role=web', /count takes how many/],
  ['count:1.5:role=web', /count takes how many/],
  ['percent:150:role=web', /percent takes a whole number from 1 to 100/],
  ['percent:0:role=web', /percent takes a whole number from 1 to 100/],
  ['percent:abc', /percent takes a whole number/],
];
for (const [expr, message] of refused) {
  test(`parseTarget refuses "${expr}" as invalid input`, (t) => {
    const err = t.throws(() => parseTarget(expr));
    t.true(err instanceof FaultlineError);
    t.is((err as FaultlineError).code, 'INVALID_INPUT');
    t.regex(err!.message, message);
  });
}

function c(server: string, component: string, extra: Partial<ContainerSummary> = {}): ContainerSummary {
  const role = server.replace(/\d+$/, '');
  return {
    id: `${server}-${component}-0000000000`,
    name: `flunit-${server}-${component}-1`,
    service: `${server}-${component}`,
    stack: 'flunit',
    role,
    server,
    component,
    state: 'running',
    health: 'healthy',
    labels: {},
    addresses: {},
    ports: [],
    networkMode: '',
    host: component === 'host',
    ...extra,
  };
}
const containers = [c('web1', 'nginx'), c('web2', 'nginx'), c('web3', 'nginx'), c('web1', 'app'), c('db-primary', 'mariadb'), c('lb', 'haproxy')];
const names = (list: ContainerSummary[]) => list.map((x) => x.service);

const selections: Array<[string, string[] | RegExp, number?]> = [
  ['server=web1,component=nginx', ['web1-nginx']],
  ['all:component=nginx', ['web1-nginx', 'web2-nginx', 'web3-nginx']],
  ['random:component=nginx', ['web2-nginx'], 0.5],
  ['random:component=nginx', ['web3-nginx'], 0.999],
  ['db-primary-mariadb', ['db-primary-mariadb']],
  ['flunit-lb-haproxy-1', ['lb-haproxy']],
  ['id=web1-app', ['web1-app']],
  ['component=nginx', /matches 3 containers \(web1-nginx, web2-nginx, web3-nginx\); narrow it/],
  ['all:role=monitor', []],
  ['count:2:component=nginx', ['web1-nginx', 'web2-nginx']],
  ['count:2:component=nginx', ['web1-nginx', 'web3-nginx'], 0.999],
  ['count:3:component=nginx', ['web1-nginx', 'web2-nginx', 'web3-nginx'], 0.5],
  ['percent:50:component=nginx', ['web1-nginx', 'web2-nginx']],
  ['percent:1:component=nginx', ['web3-nginx'], 0.999],
  ['percent:100:component=nginx', ['web1-nginx', 'web2-nginx', 'web3-nginx']],
  ['count:4:component=nginx', /^target: "count:4:component=nginx" asks for 4 containers but matches only 3 \(web1-nginx, web2-nginx, web3-nginx\)$/],
  ['count:2:role=monitor', []],
];
for (const [expr, expected, random] of selections) {
  test(`select "${expr}"${random === undefined ? '' : ` (random ${random})`} → ${expected instanceof RegExp ? 'refused' : JSON.stringify(expected)}`, (t) => {
    const run = () => names(select(containers, parseTarget(expr), () => random ?? 0));
    if (expected instanceof RegExp) t.regex(t.throws(run)!.message, expected);
    else t.deepEqual(run(), expected);
  });
}

test('resolveContainers: a target outside the stack is UNSAFE_TARGET, one nowhere is UNKNOWN_TARGET naming the services', async (t) => {
  const docker = new FakeDocker();
  docker.add({ name: 'flunit-web1-nginx-1', labels: stackLabels('web1', 'nginx') });
  docker.add({ name: 'someone-elses', labels: { 'com.docker.compose.service': 'db' } });
  const ctx = await fakeContext(docker);
  t.deepEqual(
    (await resolveContainers(ctx, 'server=web1')).map((x) => x.name),
    ['flunit-web1-nginx-1'],
  );
  const unsafe = await t.throwsAsync(resolveContainers(ctx, 'someone-elses'));
  t.is((unsafe as FaultlineError).code, 'UNSAFE_TARGET');
  const unknown = await t.throwsAsync(resolveContainers(ctx, 'server=web9'));
  t.is((unknown as FaultlineError).code, 'UNKNOWN_TARGET');
  t.regex((unknown as FaultlineError).hint ?? '', /web1-nginx/);
});

test('resolveServers: a component of a server means its host container', async (t) => {
  const docker = new FakeDocker();
  docker.add({ name: 'flunit-db-primary-1', labels: stackLabels('db-primary', 'host') });
  docker.add({ name: 'flunit-db-primary-mariadb-1', labels: stackLabels('db-primary', 'mariadb') });
  docker.add({ name: 'flunit-web1-1', labels: stackLabels('web1', 'host') });
  const ctx = await fakeContext(docker);
  t.deepEqual(
    (await resolveServers(ctx, 'service=db-primary-mariadb')).map((x) => x.name),
    ['flunit-db-primary-1'],
  );
  t.deepEqual(
    (await resolveServers(ctx, 'web1')).map((x) => x.name),
    ['flunit-web1-1'],
  );
});

test('count: and percent: pick distinct containers, whatever the random numbers', (t) => {
  const draws = [0.999, 0.999, 0.5, 0, 0.3, 0.7];
  for (let i = 0; i < 50; i += 1) {
    let k = i;
    const random = () => draws[k++ % draws.length]!;
    const picked = names(select(containers, parseTarget('count:3:component=nginx'), random));
    t.deepEqual([...new Set(picked)].sort(), ['web1-nginx', 'web2-nginx', 'web3-nginx']);
    t.is(names(select(containers, parseTarget('percent:34:component=nginx'), random)).length, 2);
  }
});

test('resolveServers: count: larger than the servers matched is one line naming them, exit 2', async (t) => {
  const docker = new FakeDocker();
  docker.add({ name: 'flunit-web1-1', labels: stackLabels('web1', 'host') });
  docker.add({ name: 'flunit-web1-nginx-1', labels: stackLabels('web1', 'nginx') });
  docker.add({ name: 'flunit-web2-1', labels: stackLabels('web2', 'host') });
  const ctx = await fakeContext(docker);
  t.is((await resolveServers(ctx, 'count:2:role=web')).length, 2);
  t.deepEqual(
    (await resolveServers(ctx, 'percent:50:role=web')).map((x) => x.name),
    ['flunit-web1-1'],
  );
  const err = (await t.throwsAsync(resolveServers(ctx, 'count:3:role=web'))) as FaultlineError;
  t.is(err.code, 'INVALID_INPUT');
  t.is(err.exitCode, 2);
  t.is(err.message, 'target: "count:3:role=web" asks for 3 servers but matches only 2 (web1, web2)');
  const none = (await t.throwsAsync(resolveContainers(ctx, 'count:2:role=db'))) as FaultlineError;
  t.is(none.code, 'UNKNOWN_TARGET');
});
