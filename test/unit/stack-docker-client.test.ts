// The Docker client speaks faultline's types: Docker's inspect answer mapped to a ContainerState, its
// not-found errors told apart by the client, and remove() idempotent. dockerode is replaced by a stand-in.

import test from 'ava';
import { DockerClient, isNotFound, toContainerState } from '../../src/stack/docker-client.js';

type RawInspect = Parameters<typeof toContainerState>[0];
const raw = (x: unknown) => x as RawInspect;

/** Trimmed from a real `docker inspect` of a reference stack's web1-app, killed by SIGKILL. */
const killedApp = raw({
  Id: 'f'.repeat(64),
  Name: '/fl11_web1-app_1',
  State: {
    Status: 'exited',
    Running: false,
    Paused: false,
    Restarting: false,
    Pid: 0,
    ExitCode: 137,
    StartedAt: '2026-03-01T10:00:00.123456789Z',
    Health: { Status: 'unhealthy', FailingStreak: 0, Log: [] },
  },
  Config: { Image: 'faultline/app:3f2a', Labels: { 'faultline.stack': 'fl11', 'faultline.server': 'web1', 'faultline.component': 'app' } },
  HostConfig: { NetworkMode: `container:${'a'.repeat(64)}` },
});

test('inspect JSON maps to a ContainerState: name without the slash, state, health, namespace, image', (t) => {
  t.deepEqual(toContainerState(killedApp), {
    id: 'f'.repeat(64),
    name: 'fl11_web1-app_1',
    image: 'faultline/app:3f2a',
    labels: { 'faultline.stack': 'fl11', 'faultline.server': 'web1', 'faultline.component': 'app' },
    status: 'exited',
    running: false,
    paused: false,
    health: 'unhealthy',
    startedAt: '2026-03-01T10:00:00.123456789Z',
    exitCode: 137,
    networkMode: `container:${'a'.repeat(64)}`,
    pid: 0,
  });
});

test('a paused container without a health check: running and paused, health none, no labels is {}', (t) => {
  const s = toContainerState(
    raw({
      Id: 'b'.repeat(64),
      Name: '/x',
      State: { Status: 'paused', Running: true, Paused: true, Pid: 4242, ExitCode: 0, StartedAt: 't' },
      Config: { Image: 'img', Labels: null },
      HostConfig: {},
    }),
  );
  t.like(s, { running: true, paused: true, health: 'none', labels: {}, networkMode: '', pid: 4242, status: 'paused' });
});

test('isNotFound: only the engine’s 404', (t) => {
  t.true(isNotFound(Object.assign(new Error('no such container'), { statusCode: 404 })));
  t.false(isNotFound(Object.assign(new Error('conflict'), { statusCode: 409 })));
  t.false(isNotFound(new Error('socket hang up')));
  t.false(isNotFound(undefined));
});

/** A dockerode stand-in whose containers answer with the given errors (or succeed). */
function clientFailing(errors: { inspect?: unknown; remove?: unknown }): { client: DockerClient; removed: string[] } {
  const removed: string[] = [];
  const api = {
    getContainer: (id: string) => ({
      inspect: async () => {
        if (errors.inspect) throw errors.inspect;
        return { ...killedApp, Id: id };
      },
      remove: async () => {
        if (errors.remove) throw errors.remove;
        removed.push(id);
      },
    }),
  };
  return { client: new DockerClient(api as unknown as ConstructorParameters<typeof DockerClient>[0]), removed };
}

const engineError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

test('remove() is idempotent: gone (404) or already being removed (409 in progress) is fine', async (t) => {
  await t.notThrowsAsync(clientFailing({ remove: engineError(404, 'No such container: abc') }).client.remove('abc'));
  await t.notThrowsAsync(clientFailing({ remove: engineError(409, 'removal of container abc is already in progress') }).client.remove('abc'));
  const ok = clientFailing({});
  await ok.client.remove('abc');
  t.deepEqual(ok.removed, ['abc']);
});

test('remove() still fails on any other conflict or engine error', async (t) => {
  await t.throwsAsync(clientFailing({ remove: engineError(409, 'You cannot remove a running container') }).client.remove('abc'), {
    message: /running container/,
  });
  await t.throwsAsync(clientFailing({ remove: engineError(500, 'driver failed') }).client.remove('abc'), { message: /driver failed/ });
});

test('findContainer: undefined when there is no such container; other failures reject; inspect maps', async (t) => {
  t.is(await clientFailing({ inspect: engineError(404, 'No such container') }).client.findContainer('abc'), undefined);
  await t.throwsAsync(clientFailing({ inspect: engineError(500, 'engine down') }).client.findContainer('abc'), { message: /engine down/ });
  t.like(await clientFailing({}).client.findContainer('abc'), { id: 'abc', name: 'fl11_web1-app_1', exitCode: 137 });
  await t.throwsAsync(clientFailing({ inspect: engineError(404, 'No such container') }).client.inspect('abc'), { message: /No such container/ });
});
