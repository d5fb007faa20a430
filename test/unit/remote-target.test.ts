// Issue 18, finding 1: every address faultline sends to from the Docker host passes one check in one place. A stack
// description whose endpoint (or Prometheus) is not loopback is refused when faultline attaches to it — before
// readiness polls, seeding writes, read-backs or probes could reach it — unless --allow-remote-target is given, which
// `faultline run` takes too.

import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachStack } from '../../src/stack/attach.js';
import { parseStackSpec } from '../../src/stack/spec.js';
import { FaultlineError, ExitCode } from '../../src/errors.js';
import { assertTargetAllowed } from '../../src/util/remote-target.js';
import { runCli } from '../helpers/stack.js';
import type { DockerClient } from '../../src/stack/docker-client.js';

const described = (url: string, extra: Record<string, unknown> = {}) =>
  parseStackSpec({ project: 'remote', endpoint: { url, insecure: true }, ...extra }, '/tmp/remote.stack.yaml', {});

/** A Docker client that records whether anything asked it at all. */
function watchedDocker(): { docker: DockerClient; asked: () => number } {
  let asked = 0;
  const docker = new Proxy({} as DockerClient, {
    get: () => async () => {
      asked += 1;
      return [];
    },
  });
  return { docker, asked: () => asked };
}

test('issue 18 finding 1: a described endpoint off the machine is refused on attach, naming the field, before Docker or the endpoint is asked', async (t) => {
  const { docker, asked } = watchedDocker();
  const err = await t.throwsAsync(attachStack({ spec: described('https://example.com/') }, docker), { instanceOf: FaultlineError });
  t.regex(err.message, /stack\.endpoint\.url: example\.com is not a loopback address/);
  t.is(err.exitCode, ExitCode.invalidInput);
  t.is(asked(), 0);
  const prom = await t.throwsAsync(attachStack({ spec: described('https://127.0.0.1:9443/', { prometheus: { url: 'http://10.1.2.3:9090' } }) }, docker));
  t.regex(prom.message, /stack\.prometheus\.url: 10\.1\.2\.3 is not a loopback address/);
});

test('issue 18 finding 1: with --allow-remote-target the description is attached', async (t) => {
  const { docker, asked } = watchedDocker();
  await t.notThrowsAsync(attachStack({ spec: described('https://example.com/'), allowRemoteTarget: true }, docker));
  t.true(asked() > 0);
});

test('issue 18 finding 1: loopback in every spelling passes; anything else only when allowed', (t) => {
  for (const url of ['https://127.0.0.1:8443/', 'http://localhost/', 'https://[::1]:9443/', '::1']) t.notThrows(() => assertTargetAllowed(url, 'url', false));
  for (const url of ['https://10.0.0.1/', 'http://example.com/', '192.168.1.1']) {
    t.throws(() => assertTargetAllowed(url, 'url', false), { message: /is not a loopback address/ });
    t.notThrows(() => assertTargetAllowed(url, 'url', true));
  }
});

test('issue 18 finding 1: faultline run refuses an inline description with a remote endpoint (exit 2), and takes --allow-remote-target', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-remote-'));
  const file = join(dir, 'remote.yaml');
  await writeFile(
    file,
    [
      'title: remote',
      'stack: { description: { project: remote, endpoint: { url: "https://example.com/", insecure: true } } }',
      'load: { driver: paced, rate: 1, duration: 5s }',
      'method:',
      '  - probe: health',
      '',
    ].join('\n'),
  );
  const env = { FAULTLINE_HOME: join(dir, 'home'), DOCKER_HOST: 'unix:///nonexistent.sock' };
  const refused = await runCli(['run', file, '--out', join(dir, 'out')], { env });
  t.is(refused.code, ExitCode.invalidInput, refused.stderr);
  t.regex(refused.stderr, /stack\.endpoint\.url: example\.com is not a loopback address/);
  // Allowed, it gets past the check and stops at the (missing) Docker engine instead: nothing was sent to example.com.
  const allowed = await runCli(['run', file, '--out', join(dir, 'out2'), '--allow-remote-target'], { env });
  t.not(allowed.code, ExitCode.invalidInput, allowed.stderr);
  t.notRegex(allowed.stderr, /not a loopback address/);
});
