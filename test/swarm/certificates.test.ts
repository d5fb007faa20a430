// Certificate faults on the LB task of the reference swarm stack (issue 20 item 3: "certificate faults on a task wherever
// it runs"): the bad certificate is put into the task through its node's engine and HAProxy reloads in place (the
// task's supervisor passes the reload signal on, so Swarm does not restart the task); a client that verifies sees the
// fault over HTTPS, and revert (in process, and `faultline revert` after a SIGKILL) gives back the original certificate.

import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import type { ExecutionContext } from 'ava';
import { itest as test, repoRoot, runCli } from '../helpers/stack.js';
import { startCli } from '../helpers/faults.js';
import { attachStack } from '../../src/stack/attach.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { defaultStackOptions } from '../../src/stack/config.js';
import { swarmUp } from '../../src/swarm/local-swarm.js';
import { ReferenceSwarm } from '../../src/swarm/reference-swarm.js';
import { createFaultContext, defaultRegistry, injectFault } from '../../src/faults/index.js';
import { request } from '../../src/util/http.js';
import { join } from 'node:path';

const DESCRIPTION = join(repoRoot, 'compose/faultline-swarm.stack.yaml');
const docker = new DockerClient();
const reference = new ReferenceSwarm({ project: 'fl-ref' }, docker);
let stack: AttachedStack;
let ca = '';
let original = '';

/** The LB task's id (`<container>@<node>`): the same one before, during and after a fault (no restart). */
async function lbTask(): Promise<string> {
  const lb = (await stack.containers()).filter((c) => c.server === 'lb' && c.host && c.state === 'running');
  if (lb.length !== 1) throw new Error(`${lb.length} running LB tasks`);
  return lb[0]!.id;
}

/** The fingerprint of the certificate the endpoint serves (not verified: what is served, whatever it is). */
function served(): Promise<string> {
  const url = new URL(stack.httpsUrl);
  return new Promise((resolve, reject) => {
    const s = connect({ host: url.hostname, port: Number(url.port), servername: 'localhost', rejectUnauthorized: false }, () => {
      const der = s.getPeerCertificate().raw;
      s.end();
      resolve(new X509Certificate(der).fingerprint256);
    });
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('no TLS handshake in 5 s')));
  });
}

/** What a client that verifies against the stack's CA gets: "ok" or the TLS error's code/message. */
async function verified(): Promise<string> {
  try {
    const res = await request(`${stack.httpsUrl}/whoami`, { ca, timeoutMs: 5000 });
    return res.status === 200 ? 'ok' : `status ${res.status}`;
  } catch (err) {
    return `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
  }
}

test.before(async (t) => {
  t.timeout(600_000);
  await swarmUp(docker, { nodes: 2, home: defaultStackOptions().home });
  await reference.deploy({ log: (l) => t.log(l), timeoutMs: 300_000 });
  stack = await attachStack({ stackFile: DESCRIPTION });
  ca = await readFile(reference.caPath, 'utf8');
  // A leftover of an earlier killed run must not be mistaken for the original.
  await runCli(['revert', '--all', '--stack', DESCRIPTION]);
  original = await served();
  t.is(await verified(), 'ok');
});

async function roundTrip(t: ExecutionContext, fault: string, seen: RegExp): Promise<void> {
  const task = await lbTask();
  const ctx = createFaultContext(stack, { log: (l) => t.log(l), holdMs: 60_000 });
  const active = await injectFault(ctx, defaultRegistry().configure(fault, {}), AbortSignal.timeout(60_000));
  try {
    t.true((await active.check()).active, `${fault} in effect`);
    t.regex(await verified(), seen, `a verifying client during ${fault}`);
    t.not(await served(), original, 'another certificate is served');
  } finally {
    await active.revert();
  }
  t.is(await verified(), 'ok', `after reverting ${fault}`);
  t.is(await served(), original, 'the original certificate again');
  t.is(await lbTask(), task, 'the same LB task throughout: reloaded in place, not restarted by Swarm');
  t.deepEqual(await createFaultContext(stack).store.list(), []);
}

test.serial('cert-expired on the LB task: a verifying client is refused (expired), revert serves the original again', async (t) => {
  await roundTrip(t, 'cert-expired', /CERT_HAS_EXPIRED|expired/i);
});

test.serial('cert-wrong-host on the LB task: the name does not match; revert restores', async (t) => {
  await roundTrip(t, 'cert-wrong-host', /ERR_TLS_CERT_ALTNAME_INVALID|altnames|does not match/i);
});

test.serial('cert-self-signed on the LB task: untrusted issuer; revert restores', async (t) => {
  await roundTrip(t, 'cert-self-signed', /SELF_SIGNED|self.signed|unable to verify/i);
});

test.serial('faultline SIGKILLed holding cert-expired: the LB keeps the bad certificate until `faultline revert --stack` (a fresh process)', async (t) => {
  const task = await lbTask();
  const held = startCli(['fault', 'inject', 'cert-expired', '--stack', DESCRIPTION, '--for', '60s']);
  t.teardown(() => void held.child.kill('SIGKILL'));
  await held.waitFor(/fault \S+ active after/, 90_000);
  held.child.kill('SIGKILL');
  t.is((await held.exited).signal, 'SIGKILL');
  t.regex(await verified(), /CERT_HAS_EXPIRED|expired/i, 'the expired certificate outlived faultline');
  const revert = await runCli(['revert', '--stack', DESCRIPTION]);
  t.is(revert.code, 0, revert.stderr);
  t.regex(revert.stdout, /^reverted /m);
  t.is(await verified(), 'ok');
  t.is(await served(), original);
  t.is(await lbTask(), task, 'the same LB task');
  t.deepEqual(await createFaultContext(stack).store.list(), []);
});
