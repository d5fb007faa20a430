// Monitoring on every web server of the reference swarm stack (issue 21, item 5), as test/integration/monitoring.test.ts
// checks it on compose: each web task's own count of the client's requests (nginx's exporter minus what mtail in the
// task counted as not the client's: HAProxy's health checks, the exporter's stub_status reads) matches the LB's count
// for that server within 5 %, so the QPS probe raises no web-count-mismatch. Shares the deploy with the suite's other
// files (`deploy` is idempotent; test/swarm/reference.test.ts removes the stack at the end).

import { join } from 'node:path';
import { itest as test, repoRoot } from '../helpers/stack.js';
import { assertPerServerMatch, countThroughLb } from '../helpers/monitoring.js';
import { attachStack } from '../../src/stack/attach.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { defaultStackOptions } from '../../src/stack/config.js';
import { swarmUp } from '../../src/swarm/local-swarm.js';
import { ReferenceSwarm } from '../../src/swarm/reference-swarm.js';
import { closeVantages } from '../../src/swarm/vantage.js';
import { getProbe } from '../../src/probes/registry.js';
import { runProbe } from '../../src/probes/runner.js';
import type { QpsDetails } from '../../src/probes/qps.js';
import type { Observation } from '../../src/probes/types.js';
import { retryUntil } from '../../src/util/retry.js';

const DESCRIPTION = join(repoRoot, 'compose/faultline-swarm.stack.yaml');
const WEB = ['web1', 'web2', 'web3'];
const docker = new DockerClient();
const reference = new ReferenceSwarm({ project: 'fl-ref' }, docker);
let stack: AttachedStack;

test.before(async (t) => {
  t.timeout(600_000);
  await swarmUp(docker, { nodes: 2, home: defaultStackOptions().home });
  await reference.deploy({ log: (l) => t.log(l), timeoutMs: 300_000 });
  stack = await attachStack({ stackFile: DESCRIPTION });
});

test.after.always(async () => {
  await closeVantages();
});

/** One look of a probe through the vantage (Prometheus is on the overlay, admitted from the operator only). */
function look(name: string, params: Record<string, unknown> = {}): Promise<Observation> {
  return runProbe(getProbe(name), { stack, docker: stack.docker }, params, AbortSignal.timeout(120_000));
}

test.serial('mtail in every web task is scraped and up, beside its nginx exporter', async (t) => {
  const up = await retryUntil(
    () => look('promql', { query: 'up{job=~"nginx|mtail"}', aggregate: 'min', expect: '1' }),
    (o) => o.passed,
    { timeoutMs: 60_000, intervalMs: 5000, what: "every web task's nginx exporter and mtail up" },
  );
  t.is((up.value as { series: number }).series, 6, JSON.stringify(up.value));
});

test.serial('each web server counts the client requests the LB passed it, within 5 %, without health checks and scrapes', async (t) => {
  t.timeout(300_000);
  const total = 450;
  const concurrency = 8;
  t.true(new URL(stack.httpsUrl).hostname === '127.0.0.1', `the load goes to ${stack.httpsUrl}`);
  // Bounded: `total` GETs, `concurrency` at a time, through the LB's published port on the manager's loopback.
  const { observation: o, loadS } = await countThroughLb(stack, total, concurrency);
  const d = o.details as unknown as QpsDetails;
  const apart = Object.fromEntries(
    WEB.map((s) => [
      s,
      `${(d.nginxPerServer[s] ?? 0) - (d.lbPerServer[s] ?? 0)} (${((100 * Math.abs((d.nginxPerServer[s] ?? 0) - (d.lbPerServer[s] ?? 0))) / Math.max(d.lbPerServer[s] ?? 0, 1)).toFixed(1)} %)`,
    ]),
  );
  t.log(
    `${total} requests in ${loadS.toFixed(1)} s; LB ${JSON.stringify(d.lbPerServer)}; web ${JSON.stringify(d.nginxPerServer)}; web − LB ${JSON.stringify(apart)}`,
  );
  t.log(`left out as not the client's (health checks, scrapes): ${JSON.stringify(d.webNotClientPerServer ?? {})}`);
  assertPerServerMatch(t, { lb: d.lbPerServer, web: d.nginxPerServer }, WEB, total);
  t.deepEqual(
    o.findings.filter((f) => f.id === 'web-count-mismatch'),
    [],
    'the QPS probe finds every web server counting what the LB passed it',
  );
  // The checks and scrapes were there and were left out: without mtail's series nginx's count would be well off.
  for (const s of WEB) t.true((d.webNotClientPerServer?.[s] ?? 0) > 0, `${s}: health checks and scrapes counted apart`);
});
