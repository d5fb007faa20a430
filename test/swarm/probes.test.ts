// Every probe on the reference swarm stack (issue 20: "every probe that works on a compose stack works here"), through
// compose/faultline-swarm.stack.yaml as a user attaches it: the ones that dial a task (databases, Prometheus, exposure's
// operator rows) go through faultline's vantage on the overlay (src/swarm/vantage.ts). Shares the deploy: `deploy` is
// idempotent, and test/swarm/reference.test.ts (after this file) removes the stack at the end of the suite.

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, repoRoot, runCli } from '../helpers/stack.js';
import { startCli } from '../helpers/faults.js';
import { attachStack } from '../../src/stack/attach.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { DockerClient, LABEL } from '../../src/stack/docker-client.js';
import { defaultStackOptions } from '../../src/stack/config.js';
import { nodeOfId } from '../../src/stack/engine.js';
import { swarmUp } from '../../src/swarm/local-swarm.js';
import { ReferenceSwarm } from '../../src/swarm/reference-swarm.js';
import { closeVantages, vantageOf } from '../../src/swarm/vantage.js';
import { getProbe } from '../../src/probes/registry.js';
import { resolveDatabase } from '../../src/probes/databases.js';
import { firstColumn, withConnection } from '../../src/probes/mysql.js';
import type { ExposureCheck } from '../../src/probes/exposure.js';
import type { Observation } from '../../src/probes/types.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { request } from '../../src/util/http.js';
import { retryUntil } from '../../src/util/retry.js';

const DESCRIPTION = join(repoRoot, 'compose/faultline-swarm.stack.yaml');
const docker = new DockerClient();
const reference = new ReferenceSwarm({ project: 'fl-ref' }, docker);
let stack: AttachedStack;
let ca = '';

/** One look of a probe, as `faultline probe NAME --stack …` takes it. */
async function look<V>(name: string, params: Record<string, unknown> = {}): Promise<Observation<V>> {
  const probe = getProbe(name);
  return (await probe.run({ stack, docker: stack.docker }, probe.params.parse(params), AbortSignal.timeout(120_000))) as Observation<V>;
}

test.before(async (t) => {
  t.timeout(600_000);
  await swarmUp(docker, { nodes: 2, home: defaultStackOptions().home });
  await reference.deploy({ log: (l) => t.log(l), timeoutMs: 300_000 });
  stack = await attachStack({ stackFile: DESCRIPTION });
  ca = await readFile(reference.caPath, 'utf8');
});

test.after.always(async () => {
  await closeVantages();
});

test.serial('health: the seven servers run and are healthy (old tasks of a redeploy are not counted)', async (t) => {
  const o = await look<{ total: number; unhealthy: number }>('health');
  t.true(o.passed, JSON.stringify(o.findings));
  t.deepEqual(o.value, { total: 7, unhealthy: 0 });
});

test.serial('the vantage: on the stack’s overlays as faultline-operator, loopback ports only, gone when closed', async (t) => {
  const v = await vantageOf(stack);
  t.deepEqual([...v.networks].sort(), ['fl-ref_edge', 'fl-ref_internal']);
  const [info] = await docker.listContainers({ [LABEL.helper]: 'vantage', [LABEL.stack]: 'fl-ref' });
  t.truthy(info);
  t.true(info!.ports.length > 0 && info!.ports.every((p) => p.startsWith('127.0.0.1:')), info!.ports.join(', '));
  // A task on the overlay that dials the vantage's relay is closed at once: only the published ports are served.
  const primary = await resolveDatabase(stack, 'primary');
  const relayed = (await stack.containers()).find((c) => c.server === 'web1' && c.host)!;
  const fromTask = await stack.docker.exec(relayed.id, ['bash', '-c', 'exec 3<>/dev/tcp/faultline-operator/40000 && timeout 3 head -c 4 <&3 | wc -c']);
  t.is(fromTask.stdout.trim(), '0', `a task got ${fromTask.stdout.trim()} bytes of ${primary.host}:${primary.port}'s greeting through the vantage`);
  t.true(primary.host === '127.0.0.1');
  await closeVantages();
  await retryUntil(
    async () => docker.listContainers({ [LABEL.helper]: 'vantage', [LABEL.stack]: 'fl-ref' }),
    (l) => l.length === 0,
    { timeoutMs: 20_000, intervalMs: 1000, what: 'the vantage gone' },
  );
  t.pass();
});

test.serial('a SIGKILLed faultline leaves its vantage to `faultline revert --stack`, which removes it (its holder is gone)', async (t) => {
  const held = startCli(['probe', 'exposure', 'vantages=operator', '--stack', DESCRIPTION]);
  t.teardown(() => void held.child.kill('SIGKILL'));
  const holder = `${held.child.pid} ${hostname()}`;
  const mine = async () =>
    (await docker.listContainers({ [LABEL.helper]: 'vantage', [LABEL.stack]: 'fl-ref' })).filter((c) => c.labels[LABEL.holder] === holder);
  await retryUntil(mine, (l) => l.length === 1, { timeoutMs: 90_000, intervalMs: 500, what: "the CLI's vantage" });
  held.child.kill('SIGKILL');
  await held.exited;
  t.is((await mine()).length, 1, 'the vantage outlived faultline');
  const revert = await runCli(['revert', '--stack', DESCRIPTION]);
  t.is(revert.code, 0, revert.stderr);
  t.regex(revert.stdout + revert.stderr, /removed \d+ leftover helper/);
  t.deepEqual(await mine(), []);
});

test.serial('replication: a write through the LB reaches the replica on worker B, and the probe sees it caught up', async (t) => {
  const { B } = await reference.workers();
  const replicaTask = (await stack.containers()).find((c) => c.server === 'db-replica' && c.host)!;
  t.is(nodeOfId(replicaTask.id), B, 'the replica runs on worker B');
  const key = `swarm-probe-${Date.now()}`;
  const posted = await request(`${stack.httpsUrl}/items`, { ca, method: 'POST', body: JSON.stringify({ key, value: 'from the primary' }) });
  t.is(posted.status, 201, posted.body);
  // Read as the operator, through the vantage, from the replica itself.
  const replica = await resolveDatabase(stack, 'replica');
  const seen = await retryUntil(
    () => withConnection(replica, (c) => firstColumn(c, 'SELECT item_key FROM items WHERE item_key = ?', [key]), { signal: AbortSignal.timeout(10_000) }),
    (rows) => rows.length === 1,
    { timeoutMs: 10_000, intervalMs: 500, what: 'the write on the replica' },
  );
  t.deepEqual(seen, [key]);
  const o = await look<{ running: boolean; lagSeconds: number | null; gtidGap: number | null; writers: string[] }>('replication');
  t.true(o.passed, JSON.stringify(o.value));
  t.true(o.value.running);
  t.is(o.value.gtidGap, 0);
  t.deepEqual(o.value.writers, ['db-primary']);
});

test.serial('exposure: no hole from the internet or an insider, and the operator rows (the vantage) reach what the policy admits', async (t) => {
  const o = await look<{ holes: number; checked: number }>('exposure', { vantages: 'internet,insider,operator' });
  t.is(o.value.holes, 0, JSON.stringify(o.details.holes));
  const checks = o.details.checks as ExposureCheck[];
  const open = (vantage: string) =>
    checks
      .filter((c) => c.vantage === vantage && c.open)
      .map((c) => `${c.server}:${c.port}`)
      .sort();
  t.deepEqual(open('operator'), ['db-primary:3306', 'db-replica:3306', 'lb:443', 'lb:80', 'monitor:9090']);
  t.deepEqual(open('insider'), ['lb:443', 'lb:80']);
  t.deepEqual(open('internet'), ['lb:443', 'lb:80']);
  t.true(
    checks.filter((c) => c.vantage === 'operator').every((c) => c.open === c.allowed),
    'every operator row is as the policy says',
  );
});

test.serial('Prometheus through the vantage: every target up (promql), the qps probe reads the server view', async (t) => {
  // The stack's own 14 targets (the jobs of the compose stack's monitor), each up: a target restarted a moment ago
  // (an earlier test's fault) may take a scrape to come back.
  const query = 'up{job=~"prometheus|node|haproxy|nginx|mysqld"}';
  const up = await retryUntil(
    () => look<{ value: number | null; series: number }>('promql', { query, aggregate: 'min', expect: '1' }),
    (o) => o.passed,
    { timeoutMs: 30_000, intervalMs: 5000, what: 'every target up' },
  );
  t.is(up.value.series, 14);
  const qps = await look('qps');
  t.true(qps.passed, JSON.stringify(qps.findings));
  t.truthy(qps.details);
});

test.serial('tls (ciphers included) and internal-encryption grade the swarm stack as the compose baseline', async (t) => {
  const tls = await look<{ grade: string; ciphers?: Record<string, string[]> }>('tls');
  t.is(tls.value.grade, 'A');
  t.true(Object.values(tls.value.ciphers ?? {}).flat().length > 0, 'accepted suites enumerated');
  const inside = await look<{ grade: string; plaintextHops: number }>('internal-encryption');
  // The baseline's known weaknesses: plaintext LB → web, web → database and replication, found through the vantage.
  t.is(inside.value.plaintextHops, 3, JSON.stringify(inside.findings));
  t.false(
    inside.findings.some((f) => f.id === 'internal-db-unknown'),
    'the database transport was checked',
  );
});

test.serial('http: the endpoint, and a task by its overlay address (the monitor, which admits the operator) through the vantage', async (t) => {
  const o = await look('http', { url: `${stack.httpsUrl}/whoami` });
  t.true(o.passed, JSON.stringify(o.value));
  const monitor = (await stack.containers()).find((c) => c.server === 'monitor' && c.host)!;
  const address = monitor.addresses['fl-ref_internal'];
  const task = await look<{ status: number | null }>('http', { url: `http://${address}:9090/-/ready` });
  t.is(task.value.status, 200, JSON.stringify(task.details));
  t.is(task.details.url, `http://${address}:9090/-/ready`, 'the journal keeps the URL asked for');
});

test.serial('cluster: a Galera probe, which the swarm form (primary/replica) has no nodes for, says so in one line', async (t) => {
  await t.throwsAsync(look('cluster'), { message: /no database with role node declared/ });
});

test.serial('data loss and recovery through `faultline run`: web2 killed under writes, 0 of N acknowledged writes lost', async (t) => {
  t.timeout(300_000);
  const dir = await mkdtemp(join(tmpdir(), 'fl-vp-probes-'));
  const experiment = join(dir, 'web2-kill.yaml');
  await writeFile(
    experiment,
    [
      'title: web2 (worker B) killed under the reference workload, on the swarm',
      `stack: { file: ${DESCRIPTION} }`,
      'load: { driver: paced, rate: 20, mix: "read=8,write=2", duration: 30s, warmup: 3s, timeout: 3s }',
      'steady_state:',
      '  - probe: replication',
      'method:',
      '  - fault: container-kill',
      '    target: server=web2',
      '    at: 5s',
      '    for: 5s',
      '  - probe: qps',
      '    at: 18s',
      'assertions:',
      '  - metric: lost_writes',
      '    max: 0',
      '',
    ].join('\n'),
  );
  const res = await runCli(['run', experiment, '--out', join(dir, 'out')], { timeoutMs: 240_000 });
  t.log(res.stderr.split('\n').slice(-8).join('\n'));
  const j = JSON.parse(await readFile(join(dir, 'out', 'journal.json'), 'utf8')) as ExperimentJournal;
  const m = j.metrics as Record<string, unknown>;
  t.is(m.data_loss_status, 'valid', JSON.stringify(j.findings));
  t.is(m.lost_writes, 0);
  t.true(Number(m.writes_acknowledged) > 20, `${String(m.writes_acknowledged)} acknowledged writes`);
  // Recovery is judged from the load's timeline around the kill (whether it recovered within the run depends on this
  // machine's load; the figure is logged).
  const recovery = (j.findings as { recovery?: { faults?: Array<{ fault: string; timeToRecoverMs: number | null }> } }).recovery;
  t.is(recovery?.faults?.[0]?.fault, 'container-kill');
  t.log(`${String(m.writes_acknowledged)} writes acknowledged, time to recover ${String(m.time_to_recover_s)} s, availability ${String(m.availability)}`);
  t.is(m.replication_lag_s, 0, 'replication looked at through the vantage');
  // The qps probe's server view is Prometheus, asked through the vantage: the load's 20 req/s are there.
  const qps = (j.method as unknown as Array<{ output?: { probe?: string; value?: { serverQps?: number } } }>).find((s) => s.output?.probe === 'qps');
  t.true((qps?.output?.value?.serverQps ?? 0) > 5, JSON.stringify(qps?.output?.value));
});
