// Stack lifecycle with its own throwaway projects, so the shared stack is never touched:
// `stack down` removes everything it created and nothing else; a taken port fails cleanly.

import net from 'node:net';
import { itest as test, runCli, sharedStack } from '../helpers/stack.js';
import { DockerClient, LABEL } from '../../src/stack/docker-client.js';
import { ReferenceStack } from '../../src/stack/reference-stack.js';
import { referenceCompose } from '../../src/stack/compose-model.js';

const docker = new DockerClient();

async function leftovers(project: string) {
  const label = { [LABEL.stack]: project };
  return {
    containers: (await docker.listContainers(label)).length,
    networks: (await docker.listNetworks(label)).length,
    volumes: (await docker.listVolumes(label)).length,
  };
}

test('stack down leaves no container, network or volume with the stack label, and nothing else is touched', async (t) => {
  const shared = await sharedStack();
  const sharedBefore = (await shared.containers())
    .filter((c) => c.state === 'running')
    .map((c) => c.id)
    .sort();
  const env = {
    FAULTLINE_PROJECT: 'fltest-down',
    FAULTLINE_HTTP_PORT: '18080',
    FAULTLINE_HTTPS_PORT: '18443',
    FAULTLINE_NET_PREFIX: '10.215.7',
    FAULTLINE_EDGE_PREFIX: '10.215.8',
  };
  const up = await runCli(['stack', 'up'], { env });
  t.is(up.code, 0, up.stderr);
  t.regex(up.stdout, /https:\/\/localhost:18443/);
  t.regex(up.stdout, /ca\.pem/);
  const during = await leftovers('fltest-down');
  t.is(during.containers, referenceCompose().services.length, 'one container per compose service');
  t.is(during.networks, 2);
  t.is(during.volumes, 2);

  const down = await runCli(['stack', 'down'], { env });
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await leftovers('fltest-down'), { containers: 0, networks: 0, volumes: 0 });
  const sharedAfter = (await shared.containers())
    .filter((c) => c.state === 'running')
    .map((c) => c.id)
    .sort();
  t.deepEqual(sharedAfter, sharedBefore, 'the shared stack is untouched');
});

test('stack up with the LB port taken fails with one line naming the port and leaves nothing running', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(18444, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const env = {
    FAULTLINE_PROJECT: 'fltest-port',
    FAULTLINE_HTTP_PORT: '18081',
    FAULTLINE_HTTPS_PORT: '18444',
    FAULTLINE_NET_PREFIX: '10.216.7',
    FAULTLINE_EDGE_PREFIX: '10.216.8',
  };
  const res = await runCli(['stack', 'up'], { env });
  t.is(res.code, 3);
  const lines = res.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('faultline:'));
  t.is(lines.length, 1, res.stderr);
  t.regex(lines[0]!, /port 18444/);
  t.deepEqual(await leftovers('fltest-port'), { containers: 0, networks: 0, volumes: 0 });
});

test('bad stack options are refused before anything starts', async (t) => {
  const res = await runCli(['stack', 'up', '--project', 'fltest-bad', '--https-port', '99999']);
  t.is(res.code, 2);
  t.regex(res.stderr, /^faultline: https-port: 99999 is not a TCP port/m);
  t.deepEqual(await leftovers('fltest-bad'), { containers: 0, networks: 0, volumes: 0 });
});

test('an attached stack describes every server with its components and address', async (t) => {
  const stack = await new ReferenceStack().up();
  const servers = await stack.servers();
  t.deepEqual(
    servers.map((s) => s.server),
    [...new Set(referenceCompose().services.map((s) => s.server))],
  );
  t.deepEqual(
    servers.find((s) => s.server === 'web2')!.components.map((c) => c.component),
    ['host', 'app', 'nginx', 'nginx-exporter'],
  );
  t.is(servers.find((s) => s.server === 'db-primary')!.address, stack.addresses['db-primary']);
});
