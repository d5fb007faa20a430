// Issue 20 item 1 on the real engine: `faultline swarm up --nodes 2` makes a real swarm (this engine as manager, two
// docker-in-docker workers that join it and show as ready), and `swarm down` removes exactly those workers. The
// reference compose stack on the same engine keeps answering throughout: down does not leave the swarm, because
// leaving drops every running container's network attachments on this Docker (measured; see local-swarm.ts).

import { itest, runCli, sharedStack } from '../helpers/stack.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { request } from '../../src/util/http.js';
import type { SwarmStatus } from '../../src/swarm/local-swarm.js';

const docker = new DockerClient();

itest.serial('swarm up --nodes 2 makes two ready workers beside the compose stack; swarm down removes exactly them', async (t) => {
  t.timeout(300_000);
  const stack = await sharedStack();
  const ca = await stack.ca();
  const answers = async () => (await request(`${stack.httpsUrl}/whoami`, { ...(ca ? { ca } : {}) })).status;

  const up = await runCli(['swarm', 'up', '--nodes', '2', '--json'], { timeoutMs: 240_000 });
  t.is(up.code, 0, up.stderr);
  const status = JSON.parse(up.stdout) as SwarmStatus;
  // At least two workers, each ready (a swarm faultline made earlier with more keeps its others).
  const workers = status.nodes.filter((n) => n.role === 'worker');
  const ours = Object.keys(status.engines).sort();
  t.true(ours.length >= 2 && ours.slice(0, 2).join() === 'faultline-node-1,faultline-node-2', ours.join());
  t.deepEqual(
    workers.map((n) => [n.hostname, n.state]).sort(),
    ours.map((h) => [h, 'ready']),
  );
  t.is(status.nodes.filter((n) => n.role === 'manager').length, 1);
  // Each worker's own engine answers faultline on the endpoint the record names, and says it is a swarm worker.
  for (const w of workers) {
    const engine = DockerClient.at(status.engines[w.hostname]!);
    t.deepEqual(await engine.swarm.membership().then((m) => [m.state, m.isManager]), ['active', false], w.hostname);
  }
  t.is(await answers(), 200, 'the compose stack answers while the swarm is up');

  const again = await runCli(['swarm', 'up', '--nodes', '2', '--json'], { timeoutMs: 120_000 });
  t.is(again.code, 0, again.stderr);
  t.deepEqual((JSON.parse(again.stdout) as SwarmStatus).nodes.map((n) => n.id).sort(), status.nodes.map((n) => n.id).sort(), 'up again changes nothing');

  const down = await runCli(['swarm', 'down', '--json']);
  t.is(down.code, 0, down.stderr);
  const removed = JSON.parse(down.stdout) as { removedNodes: string[]; leftSwarm: boolean };
  t.deepEqual(removed.removedNodes.sort(), ours);
  t.false(removed.leftSwarm);
  t.deepEqual(await docker.swarm.nodeContainers(), [], 'no worker container is left');
  const after = (await docker.swarm.nodes()).map((n) => n.role);
  t.deepEqual(after, ['manager'], 'only this engine is left in the swarm');
  t.is(await answers(), 200, 'the compose stack still answers after swarm down');
});
