// The reference stack on the shared two-worker swarm (docs/swarm.md): deployed by `faultline swarm deploy`'s code, its
// servers spread over the nodes, HTTPS from every web server with the stack's CA, replication across nodes, the
// monitor scraping every target, the same firewalls; then removed, with nothing of it left on any node. Last of the
// suite's files that deploy fl-ref (certificates, probes): their deploy is the same idempotent one, and this removes it.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest as test } from '../helpers/stack.js';
import { request } from '../../src/util/http.js';
import { retryUntil } from '../../src/util/retry.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { defaultStackOptions } from '../../src/stack/config.js';
import { swarmUp } from '../../src/swarm/local-swarm.js';
import { dockerCli, ReferenceSwarm, type SwarmTask } from '../../src/swarm/reference-swarm.js';
import { SERVERS } from '../../src/swarm/swarm-images.js';

const docker = new DockerClient();
const stack = new ReferenceSwarm({ project: 'fl-ref' }, docker);
let tasks: SwarmTask[] = [];
let ca = '';
let deploySeconds: Record<string, number> = {};

const running = (server: string) => tasks.find((t) => t.server === server && t.desired === 'running' && t.state === 'running')!;

/** A command in a server's task, on whichever node it runs. */
async function inTask(server: string, cmd: string[]) {
  const { docker: engine, containerId } = await stack.taskContainer(running(server));
  return engine.exec(containerId, cmd);
}

test.before(async (t) => {
  t.timeout(540_000);
  // Idempotent, under a second when the shared swarm is up.
  await swarmUp(docker, { nodes: 2, home: defaultStackOptions().home });
  const result = await stack.deploy({ log: (l) => t.log(l), timeoutMs: 300_000 });
  tasks = result.tasks;
  deploySeconds = result.seconds;
  ca = await readFile(stack.caPath, 'utf8');
});

test.serial('every server runs as one task, web1-3 on three nodes, each where the stack file places it', async (t) => {
  t.log(`deploy: ${JSON.stringify(deploySeconds)}`);
  const { A, B } = await stack.workers();
  const manager = (await docker.swarm.nodes()).find((n) => n.role === 'manager' && n.state === 'ready')!.hostname;
  const nodeOf = { manager, A, B };
  for (const [server, { slot }] of Object.entries(SERVERS)) {
    const task = running(server);
    t.truthy(task, `${server} has a running task`);
    t.is(task.node, nodeOf[slot], `${server} runs on ${slot}`);
  }
  const webNodes = new Set(['web1', 'web2', 'web3'].map((w) => running(w).node));
  t.true(webNodes.size >= 2, `web servers on ${[...webNodes].join(', ')}`);
});

test.serial('HTTPS on 127.0.0.1 answers with the stack’s CA from web1, web2 and web3; plain HTTP redirects', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const res = await request(`${stack.httpsUrl}/whoami`, { ca });
    t.is(res.status, 200);
    seen.add((JSON.parse(res.body) as { server: string }).server);
  }
  t.deepEqual([...seen].sort(), ['web1', 'web2', 'web3']);
  await t.throwsAsync(request(`${stack.httpsUrl}/whoami`, {}), { message: /self.signed|issuer|verify/i });
  const plain = await request(`http://127.0.0.1:${stack.options.httpPort}/whoami`);
  t.is(plain.status, 301);
  t.is(plain.headers.location, `https://127.0.0.1:${stack.options.httpsPort}/whoami`);
});

test.serial('a write through the app is read back from the replica on its worker', async (t) => {
  const key = `swarm-test-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const posted = await request(`${stack.httpsUrl}/items`, { ca, method: 'POST', body: JSON.stringify({ key, value: 'hello' }) });
  t.is(posted.status, 201, posted.body);
  const query = `SELECT value FROM faultline.items WHERE item_key = '${key}'`;
  const row = await retryUntil(
    async () => (await inTask('db-replica', ['mariadb', '-N', '-e', query])).stdout.trim(),
    (v) => v === 'hello',
    { timeoutMs: 5000, intervalMs: 250, what: 'the row on the replica' },
  );
  t.is(row, 'hello');
  t.is((await inTask('db-replica', ['mariadb', '-N', '-e', 'SELECT @@read_only'])).stdout.trim(), '1', 'the replica is read-only');
});

test.serial('Prometheus on the monitor task scrapes every server, every target up', async (t) => {
  type Up = { metric: { job: string; server: string }; value: [number, string] };
  // mtail in each web server: the requests nginx logged apart from the client's (compose/images/monitor, issue 21).
  const expected = ['haproxy/lb', 'mysqld/db-primary', 'mysqld/db-replica', 'nginx/web1', 'nginx/web2', 'nginx/web3', 'prometheus/monitor']
    .concat(['mtail/web1', 'mtail/web2', 'mtail/web3'])
    .concat(Object.keys(SERVERS).map((s) => `node/${s}`));
  const up = await retryUntil(
    async () => {
      const out = await inTask('monitor', ['curl', '-sf', 'http://127.0.0.1:9090/api/v1/query?query=up']);
      return (JSON.parse(out.stdout) as { data: { result: Up[] } }).data.result;
    },
    (r) => r.length === expected.length && r.every((x) => x.value[1] === '1'),
    { timeoutMs: 20_000, intervalMs: 1000, what: 'every target up' },
  );
  t.deepEqual(up.map((x) => `${x.metric.job}/${x.metric.server}`).sort(), expected.sort());
});

test.serial('the firewalls drop what the design does not allow, across nodes too', async (t) => {
  // web1 (worker A) may not reach the primary's node exporter (monitoring only) nor the replica's (worker B) MariaDB…
  for (const target of ['db-primary/9100', 'db-replica/9104']) {
    const r = await inTask('web1', ['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${target}`]);
    t.not(r.exitCode, 0, `web1 → ${target} is dropped`);
  }
  // …but the app's port on the replica is open to it, as it is in the compose stack.
  t.is((await inTask('web1', ['timeout', '3', 'bash', '-c', 'exec 3<>/dev/tcp/db-replica/3306'])).exitCode, 0);
});

test.serial('no password is in what docker service inspect shows: they are secrets, read by name only', async (t) => {
  const { db } = JSON.parse(await readFile(join(stack.stateDir, 'secrets.json'), 'utf8')) as { db: Record<string, string> };
  const inspected = await dockerCli(['service', 'inspect', ...Object.keys(SERVERS).map((s) => `${stack.options.project}_${s}`)]);
  for (const [account, password] of Object.entries(db)) t.false(inspected.includes(password), `${account}'s password`);
  t.regex(inspected, /"SecretName": "fl-ref_db_app_/);
});

test.serial('remove leaves nothing of the stack: services, networks, secrets, volumes, containers on any node', async (t) => {
  await stack.remove({ log: (l) => t.log(l) });
  const ns = 'label=com.docker.stack.namespace=fl-ref';
  t.is((await dockerCli(['service', 'ls', '-q', '--filter', ns])).trim(), '');
  t.is((await dockerCli(['network', 'ls', '-q', '--filter', ns])).trim(), '');
  t.is((await dockerCli(['secret', 'ls', '-q', '--filter', ns])).trim(), '');
  const { engines } = await stack.workers();
  for (const engine of [docker, ...Object.values(engines).map((e) => DockerClient.at(e))]) {
    t.deepEqual(await engine.listContainers({ 'com.docker.stack.namespace': 'fl-ref' }), []);
    t.deepEqual(await engine.listVolumes({ 'com.docker.stack.namespace': 'fl-ref' }), []);
  }
  t.deepEqual(await stack.tasks(), []);
});
