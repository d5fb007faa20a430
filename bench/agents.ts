// Load from many agents against one: the merged result of 3 agents at 1/3 of the rate each against 1 agent at the whole
// rate, same target (nginx of our own on an attachable overlay, on the manager), same run, rounds interleaved. Goals:
// request counts exact (each run's answered requests = the target's own count of them, and = rate × duration), and the
// merged p50/p99 within 5 % of the single agent's (the merge is exact; what differs is where the agents run).
// Both sides share one t = 0 (they start at the same instant, so the machine's moments fall on both alike), and each
// agent's own p50/p99 is printed with its node, so a difference can be traced to placement rather than to the merge.
// BENCH_PLACE: spread (default: Swarm spreads each side, at most one agent per node on the 3-agent side), or a node's
// hostname (both sides pinned to it: the same network path, the same machine, for every agent).
// Run: node --import=tsx bench/agents.ts   (needs `faultline swarm up` and a build; BENCH_RATE, BENCH_SECONDS, BENCH_ROUNDS)

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DockerClient } from '../src/stack/docker-client.js';
import { defaultStackOptions } from '../src/stack/config.js';
import { runAgents } from '../src/swarm/agents.js';

const RATE = Number(process.env.BENCH_RATE ?? 300);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PLACE = process.env.BENCH_PLACE ?? 'spread';
const CONSTRAINTS = PLACE === 'spread' ? [] : [`node.hostname==${PLACE}`];
const NET = 'fl-agents-bench-net';
const TARGET = 'fl-agents-bench-target';
const sh = promisify(execFile);
const docker = new DockerClient();
const NGINX =
  'printf "server { listen 80; access_log /tmp/access.log; location / { return 200 ok; } }\\n" > /etc/nginx/conf.d/faultline.conf && exec nginx -g "daemon off;"';

async function targetId(): Promise<string> {
  return (await sh('docker', ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${TARGET}`])).stdout.trim().split('\n')[0] ?? '';
}

async function targetCount(): Promise<number> {
  return Number((await docker.exec(await targetId(), ['sh', '-c', 'cat /tmp/access.log 2>/dev/null | wc -l'])).stdout.trim());
}

async function setUp(): Promise<void> {
  const image = (await sh('docker', ['images', 'faultline/web', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n')[0] ?? '';
  await sh('docker', ['network', 'create', '-d', 'overlay', '--attachable', NET]).catch(() => undefined);
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
    image,
    '-c',
    NGINX,
  ]);
  for (let i = 0; i < 30 && !(await targetId()); i++) await new Promise((r) => setTimeout(r, 2000));
}

async function tearDown(): Promise<void> {
  await sh('docker', ['service', 'rm', TARGET]).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 3000));
  await sh('docker', ['network', 'rm', NET]).catch(() => undefined);
}

interface Figures {
  agents: number;
  intended: number;
  answered: number;
  p50: number | null;
  p99: number | null;
  nodes: string;
  each: string;
  errors: Record<string, number>;
}

async function side(agents: number, startAtMs?: number): Promise<Figures> {
  const { result, agents: outcomes } = await runAgents({
    input: { url: `http://${TARGET}/`, rate: RATE, durationMs: SECONDS * 1000, timeoutMs: 2000 },
    agents,
    network: NET,
    home: defaultStackOptions().home,
    namePrefix: 'fl-agents',
    ...(startAtMs ? { startAtMs } : {}),
    ...(CONSTRAINTS.length ? { constraints: CONSTRAINTS } : {}),
    log: (l) => process.stderr.write(`  ${l}\n`),
  });
  const s = result.summary;
  const each = outcomes.map((a) => `${a.node}: p50 ${a.summary?.p50Ms ?? '-'} / p99 ${a.summary?.p99Ms ?? '-'} ms`).join('; ');
  return {
    agents,
    intended: s.intended,
    answered: s.responses,
    p50: s.latency.p50,
    p99: s.latency.p99,
    nodes: outcomes.map((a) => a.node).join(', '),
    each,
    errors: s.errorCodes,
  };
}

const pct = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? `${(((a - b) / b) * 100).toFixed(1)} %` : 'n/a');

await setUp();
try {
  console.log(
    `rate ${RATE} req/s for ${SECONDS} s on each side, both sides at once from one t = 0 (the target sees twice the rate), ${ROUNDS} round(s), placement ${PLACE}`,
  );
  // Both sides run at once, so the machine's noise falls on both alike; the image is built and shipped once first.
  await side(1);
  for (let r = 0; r < ROUNDS; r++) {
    const before = await targetCount();
    // One t = 0 for both: far enough ahead for both services' tasks to start on every node.
    const t0 = Date.now() + 15_000;
    const [three, one] = await Promise.all([side(3, t0), side(1, t0)]);
    const counted = (await targetCount()) - before;
    // A LATE request already handed to its socket still reaches the target: the count lies between the answered ones
    // and those plus the late ones (exactly the answered ones when nothing was late).
    const late = (three.errors.LATE ?? 0) + (one.errors.LATE ?? 0);
    const answered = three.answered + one.answered;
    const intendedOk = three.intended === RATE * SECONDS && one.intended === RATE * SECONDS;
    const exact = intendedOk && (late === 0 ? answered === counted : counted >= answered && counted <= answered + late);
    for (const f of [three, one])
      console.log(
        `  ${f.agents} agent(s) on ${f.nodes}: intended ${f.intended}, answered ${f.answered}, p50 ${f.p50} ms, p99 ${f.p99} ms, errors ${JSON.stringify(f.errors)} (${f.each})`,
      );
    console.log(
      `  target counted ${counted} = ${three.answered} + ${one.answered}${late ? ` (+ up to ${late} late)` : ''}: ${exact ? 'exact' : 'NOT exact'}; ` +
        `3 vs 1: p50 ${pct(three.p50, one.p50)}, p99 ${pct(three.p99, one.p99)}`,
    );
  }
} finally {
  await tearDown();
}
