// Issue 20 item 4 on the shared swarm: two load agents at half the rate each against a target of our own on an
// attachable overlay network; the merged count of answered requests equals the target's own count of requests
// (nginx's access log), exactly. One agent killed mid-run through its node's engine is reported, its share from its last
// shipped bucket counted as failed. A target off the network is refused in one line, exit 2, before anything is made.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { itest, repoRoot, runCli } from '../helpers/stack.js';
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
  t.deepEqual(
    agents.map((a) => a.state),
    ['completed', 'completed'],
  );
  t.not(agents[0]!.node, agents[1]!.node, 'one agent per node');
  t.is(result.summary.intended, 800);
  t.is(result.summary.responses, after - before, 'answered requests = requests the target logged');
  t.is(result.summary.successes, 800);
  t.is(result.timeline.mergedHistogram().totalCount, 800);
  const { stdout } = await sh('docker', ['service', 'ls', '--filter', `label=${AGENTS_LABEL}`, '-q']);
  t.is(stdout.trim(), '', 'the agents service is removed');
});

itest.serial('an agent killed mid-run is reported and its share from its last shipped bucket counts as failed', async (t) => {
  t.timeout(240_000);
  const engines = (await readSwarmRecord(home))?.engines ?? {};
  let killed = '';
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
  t.true(dead.lostFromMs! > 0 && dead.lostFromMs! <= 5000, `lost from ${dead.lostFromMs}`);
  t.is(dead.lostRequests, Math.round(((10_000 - dead.lostFromMs!) / 1000) * 50));
  t.is(result.summary.errorCodes[AGENT_LOST], dead.lostRequests);
  t.is(result.summary.intended, 1000, 'every intended request has an outcome: none silently dropped');
  t.is(result.summary.successes, 1000 - dead.lostRequests);
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
  t.timeout(240_000);
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
  const r = await runCli(['run', file, '--out', dir, '--json'], { timeoutMs: 200_000 });
  t.is(r.code, 0, r.stderr);
  const journal = JSON.parse(await readFile((JSON.parse(r.stdout) as { journal: string }).journal, 'utf8')) as {
    load: { summary: { intended: number; successes: number }; ledger: { runId: string } };
    method: Array<{ kind: string; status: string; startMs?: number }>;
  };
  t.is(journal.load.summary.intended, 360);
  t.is(journal.load.summary.successes, 360);
  const probe = journal.method.find((a) => a.kind === 'probe');
  t.true(probe !== undefined && probe.startMs! >= 1900 && probe.startMs! < 4000, JSON.stringify(probe));
  await rm(dir, { recursive: true, force: true });
});
