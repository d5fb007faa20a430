// Issue 20 item 4 on the shared swarm: two load agents at half the rate each against a target of our own on an
// attachable overlay network; the merged count of answered requests equals the target's own count of requests
// (nginx's access log), exactly. One agent killed mid-run through its node's engine is reported, its share from its last
// shipped bucket counted as failed. A target off the network is refused in one line, exit 2, before anything is made.
// Live as one process (the agents stream their final buckets through the service's log while they run): progress lines
// appear during the run, a stop condition ends a 2-agent experiment early and the stop is in its journal, and
// `--out prometheus` receives, while the run goes on, per-second series equal to the merged result's.

import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { uncompressSync } from 'snappy';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { itest, repoRoot, runCli } from '../helpers/stack.js';
import { startCli } from '../helpers/faults.js';
import { WriteRequest } from '../../src/load/remote-write.js';
import { Timeline, type LoadResultJSON } from '../../src/load/index.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { defaultStackOptions } from '../../src/stack/config.js';
import { AGENTS_LABEL, AGENTS_UNTIL_LABEL, revertAgentServices, runAgents } from '../../src/swarm/agents.js';
import { agentTasks } from '../../src/swarm/agents-docker.js';
import { readSwarmRecord } from '../../src/swarm/swarm-record.js';
import { AGENT_LOST } from '../../src/load/agents.js';

const sh = promisify(execFile);
const NET = 'fl-agents-it-net';
const TARGET = 'fl-agents-it-target';
const home = defaultStackOptions().home;
// Agent services of this suite's runs (the CLI's and the experiments' too) start with the team's prefix.
process.env.FAULTLINE_AGENTS_PREFIX = 'fl-agents';
const docker = new DockerClient();
/** nginx answering 200 on / and writing one access-log line per request: the target's own count. */
const NGINX =
  'printf "server { listen 80; access_log /tmp/access.log; location / { return 200 ok; } }\\n" > /etc/nginx/conf.d/faultline.conf && exec nginx -g "daemon off;"';

async function targetCount(): Promise<number> {
  const { stdout } = await sh('docker', ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${TARGET}`]);
  const id = stdout.trim().split('\n')[0] ?? '';
  const out = await docker.exec(id, ['sh', '-c', 'cat /tmp/access.log 2>/dev/null | wc -l']);
  return Number(out.stdout.trim());
}

async function webImage(): Promise<string> {
  const { stdout } = await sh('docker', ['images', 'faultline/web', '--format', '{{.Repository}}:{{.Tag}}']);
  return stdout.trim().split('\n')[0] ?? '';
}

itest.before(async () => {
  // Two workers at least (the swarm is shared: it may have more).
  const nodes = Math.max(2, (await readSwarmRecord(home))?.nodes.length ?? 0);
  const up = await runCli(['swarm', 'up', '--nodes', String(nodes)], { timeoutMs: 240_000 });
  if (up.code !== 0) throw new Error(up.stderr);
  // The agent image carries the built engine: build it from these sources (type errors elsewhere still emit).
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot, stdio: 'ignore' });
  } catch {
    if (!existsSync(join(repoRoot, 'dist', 'load', 'agents-entry.js'))) throw new Error('build failed');
  }
  await sh('docker', ['service', 'rm', TARGET]).catch(() => undefined);
  await sh('docker', ['network', 'create', '-d', 'overlay', '--attachable', NET]).catch(() => undefined);
  // On the manager, so the test reads its log through this engine.
  await sh('docker', [
    'service',
    'create',
    '--detach',
    '--name',
    TARGET,
    '--network',
    NET,
    '--endpoint-mode',
    'dnsrr',
    '--constraint',
    'node.role==manager',
    '--entrypoint',
    'sh',
    await webImage(),
    '-c',
    NGINX,
  ]);
  for (let i = 0; i < 30; i++) {
    const { stdout } = await sh('docker', ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${TARGET}`]);
    if (stdout.trim()) return;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`${TARGET} did not start`);
});

itest.after.always(async () => {
  await sh('docker', ['service', 'rm', TARGET]).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 3000));
  await sh('docker', ['network', 'rm', NET]).catch(() => undefined);
});

itest.serial('a target neither on the network nor loopback is refused in one line, exit 2, before anything is deployed', async (t) => {
  const r = await runCli(['load', 'http://example.com/', '--rate', '10', '--duration', '2s', '--agents', '2', '--network', NET]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr.trim(), /^faultline: url: example\.com is neither a service on network fl-agents-it-net nor loopback/);
  t.is(r.stderr.trim().split('\n').length, 1);
  const { stdout } = await sh('docker', ['service', 'ls', '--filter', `label=${AGENTS_LABEL}`, '-q']);
  t.is(stdout.trim(), '');
});

itest.serial('two agents at half the rate each: the merged count of answered requests is the target’s own count, exactly', async (t) => {
  t.timeout(240_000);
  const before = await targetCount();
  const { result, agents } = await runAgents({
    input: { url: `http://${TARGET}/`, rate: 100, durationMs: 8000, timeoutMs: 2000 },
    agents: 2,
    network: NET,
    home,
    namePrefix: 'fl-agents',
    log: (l) => t.log(l),
  });
  const after = await targetCount();
  t.log(`target logged ${after - before}; answered ${result.summary.responses}, errors ${JSON.stringify(result.summary.errorCodes)}`);
  t.deepEqual(
    agents.map((a) => a.state),
    ['completed', 'completed'],
  );
  t.not(agents[0]!.node, agents[1]!.node, 'one agent per node');
  t.is(result.summary.intended, 800);
  // Every intended request answered, or counted LATE by its agent (on a starved machine): a late request still in the
  // agent's queue never left, one already handed to its socket left late, so the target logged between the answered
  // ones and those plus the late ones; exactly the answered ones when nothing was late.
  const late = result.summary.errorCodes.LATE ?? 0;
  t.true(
    after - before >= result.summary.responses && after - before <= result.summary.responses + late,
    `target logged ${after - before}; answered ${result.summary.responses}, late ${late}`,
  );
  t.is(result.summary.successes + late, 800);
  t.is(result.timeline.mergedHistogram().totalCount, 800 - late);
  const { stdout } = await sh('docker', ['service', 'ls', '--filter', `label=${AGENTS_LABEL}`, '-q']);
  t.is(stdout.trim(), '', 'the agents service is removed');
});

itest.serial('an agent killed mid-run is reported and its share from its last shipped bucket counts as failed', async (t) => {
  t.timeout(240_000);
  const engines = (await readSwarmRecord(home))?.engines ?? {};
  let killed = '';
  let killedAtMs = 0;
  const { result, agents } = await runAgents({
    input: { url: `http://${TARGET}/`, rate: 100, durationMs: 10_000, timeoutMs: 1000 },
    agents: 2,
    network: NET,
    home,
    namePrefix: 'fl-agents',
    checkpointMs: 1000,
    log: (l) => t.log(l),
    onStarted: ({ service, startAtMs }) => {
      // 5 s into the load, agent 2's container is killed through the engine of the node it runs on.
      setTimeout(
        () =>
          void (async () => {
            const task = (await agentTasks(service)).find((x) => x.slot === 2);
            if (!task?.containerId) return;
            const engine = engines[task.node] ? DockerClient.at(engines[task.node]!) : docker;
            await engine.kill(task.containerId);
            killedAtMs = Date.now() - startAtMs;
            killed = task.node;
          })(),
        Math.max(0, startAtMs + 5000 - Date.now()),
      );
    },
  });
  t.not(killed, '', 'agent 2 was killed');
  const dead = agents[1]!;
  t.is(agents[0]!.state, 'completed');
  t.is(dead.state, 'died');
  t.is(dead.node, killed);
  t.regex(dead.reason ?? '', /exit 137/);
  // It ships every second what is final (over by 1 s, every request answered): lost from before the kill, not long before.
  t.true(
    dead.lostFromMs! > 0 && dead.lostFromMs! <= killedAtMs && dead.lostFromMs! >= killedAtMs - 4000,
    `lost from ${dead.lostFromMs}, killed at ${killedAtMs}`,
  );
  t.is(dead.lostRequests, Math.round(((10_000 - dead.lostFromMs!) / 1000) * 50));
  t.is(result.summary.errorCodes[AGENT_LOST], dead.lostRequests);
  t.is(result.summary.intended, 1000, 'every intended request has an outcome: none silently dropped');
  t.is(result.summary.successes + (result.summary.errorCodes.LATE ?? 0), 1000 - dead.lostRequests);
});

itest.serial('agents left by a faultline killed with SIGKILL are removed by revert; a live run’s are left alone', async (t) => {
  const image = await webImage();
  const make = (name: string, until: number) =>
    sh('docker', [
      'service',
      'create',
      '--detach',
      '--name',
      name,
      '--label',
      `${AGENTS_LABEL}=test`,
      '--label',
      `${AGENTS_UNTIL_LABEL}=${until}`,
      '--restart-condition',
      'none',
      '--entrypoint',
      'sleep',
      image,
      '120',
    ]);
  const later = Date.now() + 600_000;
  await make('fl-agents-left', later);
  await make('fl-agents-live', later);
  await make('fl-agents-over', Date.now() - 1000);
  // A pid that is no process (above the kernel's pid_max) holds the first; this test's own process the second; the
  // third is in no record (another home's, or its record lost), but its run is over.
  const record = {
    version: 1,
    services: [
      { service: 'fl-agents-left', pid: 2 ** 22 + 1 },
      { service: 'fl-agents-live', pid: process.pid },
    ],
  };
  await writeFile(join(home, 'agents.json'), JSON.stringify(record));
  try {
    t.deepEqual((await revertAgentServices(home)).sort(), ['fl-agents-left', 'fl-agents-over']);
    const { stdout } = await sh('docker', ['service', 'ls', '--filter', `label=${AGENTS_LABEL}=test`, '--format', '{{.Name}}']);
    t.deepEqual(stdout.trim().split('\n'), ['fl-agents-live']);
  } finally {
    await sh('docker', ['service', 'rm', 'fl-agents-left', 'fl-agents-live', 'fl-agents-over']).catch(() => undefined);
    await writeFile(join(home, 'agents.json'), JSON.stringify({ version: 1, services: [] }));
  }
});

itest.serial('an experiment’s load from agents: the method runs on their t = 0 and the journal holds the merged load', async (t) => {
  t.timeout(360_000);
  const dir = await mkdtemp(join(tmpdir(), 'fl-agents-exp-'));
  const file = join(dir, 'agents.yaml');
  await writeFile(
    file,
    [
      'title: load from two agents',
      `load: { driver: paced, rate: 60, duration: 6s, warmup: 1s, agents: 2, network: ${NET}, url: "http://${TARGET}/" }`,
      'method:',
      '  - probe: http',
      '    params: { path: /whoami }',
      '    at: 2s',
      '',
    ].join('\n'),
  );
  // The agent image is built and shipped when the sources changed: on a starved machine that alone took 90 s.
  const r = await runCli(['run', file, '--out', dir, '--json'], { timeoutMs: 300_000 });
  t.is(r.code, 0, r.stderr);
  const journal = JSON.parse(await readFile((JSON.parse(r.stdout) as { journal: string }).journal, 'utf8')) as {
    load: { summary: { intended: number; successes: number; errorCodes: Record<string, number> }; ledger: { runId: string } };
    method: Array<{ kind: string; status: string; startMs?: number }>;
  };
  t.is(journal.load.summary.intended, 360);
  t.is(journal.load.summary.successes + (journal.load.summary.errorCodes.LATE ?? 0), 360);
  const probe = journal.method.find((a) => a.kind === 'probe');
  t.true(probe !== undefined && probe.startMs! >= 1900 && probe.startMs! < 4000, JSON.stringify(probe));
  await rm(dir, { recursive: true, force: true });
});

/** A remote-write receiver on 127.0.0.1: every sample by series (name and labels but run and experiment), and when each push came. */
async function receiver() {
  const series = new Map<string, Map<number, number>>();
  const arrivals: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrivals.push(Date.now());
      const o = WriteRequest.toObject(WriteRequest.decode(uncompressSync(Buffer.concat(chunks)) as Buffer), { longs: Number, defaults: true }) as {
        timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }>;
      };
      for (const ts of o.timeseries) {
        const name = ts.labels.find((l) => l.name === '__name__')?.value ?? '';
        const rest = ts.labels.filter((l) => !['__name__', 'run', 'experiment'].includes(l.name)).map((l) => `${l.name}=${l.value}`);
        const key = `${name}{${rest.join(',')}}`;
        const m = series.get(key) ?? new Map<number, number>();
        for (const x of ts.samples) m.set(x.timestamp, x.value);
        series.set(key, m);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, series, arrivals, close: () => server.close() };
}

itest.serial('load --agents 2: progress lines during the run, remote-write per second equal to the merged result, pushed live', async (t) => {
  t.timeout(240_000);
  const rw = await receiver();
  t.teardown(() => rw.close());
  const cli = startCli([
    'load',
    `http://${TARGET}/`,
    '--rate',
    '60',
    '--duration',
    '16s',
    '--agents',
    '2',
    '--network',
    NET,
    '--out',
    `prometheus=${rw.url}`,
    '--json',
  ]);
  t.teardown(() => void cli.child.kill('SIGKILL'));
  let ended: number | null = null;
  void cli.exited.then(() => (ended = Date.now()));
  // Outside a terminal a plain line every 10 s of load, as one process writes it (on stderr): it must come while the
  // agents run, not with the result.
  let progressAt: number | null = null;
  while (progressAt === null && ended === null) {
    if (/^load: t=10 s, \d+ sent, [\d.]+ % ok/m.test(cli.output().stderr)) progressAt = Date.now();
    else await new Promise((r) => setTimeout(r, 250));
  }
  const exit = await cli.exited;
  t.is(exit.code, 0, cli.output().stderr);
  t.true(
    progressAt !== null && progressAt < ended! - 3000,
    `the progress line came ${progressAt === null ? 'never' : `${ended! - progressAt} ms`} before the end`,
  );
  t.true(
    rw.arrivals.some((a) => a < ended! - 2000),
    'seconds were pushed while the run went on',
  );
  const out = JSON.parse(cli.output().stdout) as LoadResultJSON & { agents: Array<{ state: string }> };
  t.deepEqual(
    out.agents.map((a) => a.state),
    ['completed', 'completed'],
  );
  const seconds = Timeline.fromJSON(out.timeline).perSecond();
  t.is(seconds.length, 16);
  const t0 = Date.parse(out.startedAt);
  const at = (key: string, i: number) => rw.series.get(key)?.get(t0 + i * 1000) ?? null;
  seconds.forEach((w, i) => {
    t.is(at('faultline_requests{outcome=ok}', i), w.successes, `ok at second ${i}`);
    t.is(at('faultline_requests{outcome=error}', i), w.errors, `errors at second ${i}`);
    t.is(at('faultline_rate{kind=sent}', i), w.sent, `sent at second ${i}`);
    t.is(at('faultline_latency_ms{quantile=0.99,view=corrected}', i), w.latency.p99, `p99 at second ${i}`);
    t.is(at('faultline_latency_ms{quantile=0.5,view=corrected}', i), w.latency.p50, `p50 at second ${i}`);
  });
  t.is(out.summary.intended, 960);
});

itest.serial('a stop condition ends a 2-agent experiment early: every agent stopped, the stop in the journal as on one machine', async (t) => {
  t.timeout(240_000);
  const dir = await mkdtemp(join(tmpdir(), 'fl-agents-stop-'));
  const file = join(dir, 'stop.yaml');
  // Nothing listens on port 81 of the target: every request is refused, so availability is 0 from the first second.
  await writeFile(
    file,
    [
      'title: load from two agents, stopped when it hurts',
      `load: { driver: paced, rate: 40, duration: 60s, agents: 2, network: ${NET}, url: "http://${TARGET}:81/" }`,
      'stop_when:',
      '  - { metric: availability, below: 0.5, over: 1s }',
      'method:',
      '  - probe: http',
      '    params: { path: /whoami }',
      '    at: 1s',
      '',
    ].join('\n'),
  );
  const started = Date.now();
  const r = await runCli(['run', file, '--out', dir, '--json'], { timeoutMs: 200_000 });
  t.log(r.stderr.split('\n').slice(-15).join('\n'));
  const journal = JSON.parse(await readFile((JSON.parse(r.stdout) as { journal: string }).journal, 'utf8')) as ExperimentJournal;
  const stop = journal.stop!;
  t.truthy(stop, 'the stop is recorded');
  t.is(stop.condition, 'availability < 0.5 over 1 s');
  t.true(stop.atMs < 15_000, `fired at ${stop.atMs} ms of a 60 s load`);
  t.is(journal.load!.stopReason, 'stopped');
  // Every agent stopped sending promptly: the merged load ends within a few seconds of the stop, not at 60 s.
  t.true(journal.load!.durationMs <= stop.atMs + 5000, `load ran ${journal.load!.durationMs} ms, stop at ${stop.atMs} ms`);
  t.true(Date.now() - started < 120_000);
  const { stdout } = await sh('docker', ['service', 'ls', '--filter', `label=${AGENTS_LABEL}`, '-q']);
  t.is(stdout.trim(), '', 'the agents service is removed');
  await rm(dir, { recursive: true, force: true });
});
