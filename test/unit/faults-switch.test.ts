// No fault left behind by any path (issue 18): a revert takes only Docker's 404 for "gone", concurrent reverts
// agree, a partition cuts every address, and every fault kind carries a dead man's switch. On the fake Docker.

import test from 'ava';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { FaultRegistry, injectFault, revertRecord, revertRecorded, type FaultRecord } from '../../src/faults/index.js';
import { certificateFaults } from '../../src/faults/certificate-faults.js';
import { issueCertificate, serverAltNames } from '../../src/stack/tls.js';
import { firewallFaults } from '../../src/faults/firewall-faults.js';
import { networkFaults } from '../../src/faults/network-faults.js';
import { processFaults } from '../../src/faults/process-faults.js';
import { armScript, containersUndo, disarmScript, dockerSocket, edgeUndo, switchSeconds } from '../../src/faults/switch.js';
import type { RunOptions } from '../../src/stack/docker-client.js';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerError, FakeDocker, fakeContext, PROJECT, stackLabels } from '../helpers/fake-docker.js';

function servers(docker: FakeDocker) {
  const web1 = docker.add({ name: 'web1', labels: stackLabels('web1', 'host'), addresses: { flunit_internal: '10.0.0.21' } });
  const app = docker.add({ name: 'web1-app', labels: stackLabels('web1', 'app'), networkMode: `container:${web1.id}` });
  const lb = docker.add({ name: 'lb', labels: stackLabels('lb', 'host'), addresses: { flunit_internal: '10.0.0.10', flunit_edge: '10.0.1.10' } });
  return { web1, app, lb };
}

const registry = new FaultRegistry([...networkFaults, ...firewallFaults, ...processFaults]);

const cases: Array<{ fault: string; options: { target?: string; params?: Record<string, unknown> }; on: 'web1' | 'app' }> = [
  { fault: 'net-loss', options: { target: 'server=web1', params: { loss: '100%' } }, on: 'web1' },
  { fault: 'firewall-open-port', options: { target: 'server=web1' }, on: 'web1' },
  { fault: 'container-pause', options: { target: 'service=web1-app' }, on: 'app' },
];

for (const c of cases) {
  test(`issue 18 finding 2: ${c.fault}: a 500 from inspect during revert fails the revert and keeps the record (only a 404 means gone)`, async (t) => {
    const docker = new FakeDocker();
    const s = servers(docker);
    const ctx = await fakeContext(docker);
    const active = await injectFault(ctx, registry.configure(c.fault, c.options), AbortSignal.timeout(5000));
    const target = s[c.on];
    docker.inspectErrors.set(target.id, dockerError(500, 'dockerd is restarting'));

    const failed = await revertRecorded(ctx, registry, { all: true });
    t.is(failed.reverted.length, 0, 'not reported as reverted');
    t.is(failed.failed.length, 1);
    t.regex(failed.failed[0]!.error.message, /dockerd is restarting/);
    t.deepEqual(
      (await ctx.store.list()).map((r) => r.id),
      [active.id],
      'the record stays for the next revert',
    );
    if (c.fault === 'container-pause') t.is(s.app.state, 'paused', 'still frozen');
    if (c.fault === 'net-loss')
      t.true(
        [...docker.containers.values()].some((x) => x.labels['faultline.fault'] === active.id),
        'its dead man’s switch stays',
      );

    docker.inspectErrors.clear();
    const ok = await revertRecorded(ctx, registry, { all: true });
    t.deepEqual(ok.failed, []);
    t.is(ok.reverted.length, 1);
    t.deepEqual(await ctx.store.list(), []);
    t.is(s.app.state, 'running');
  });
}

test('issue 18 finding 2: a container that is really gone (404) still counts as reverted', async (t) => {
  const docker = new FakeDocker();
  const s = servers(docker);
  const ctx = await fakeContext(docker);
  await injectFault(ctx, registry.configure('firewall-open-port', { target: 'server=web1' }), AbortSignal.timeout(5000));
  docker.containers.delete(s.web1.id);
  const summary = await revertRecorded(ctx, registry, { all: true });
  t.deepEqual(summary.failed, []);
  t.is(summary.reverted.length, 1);
});

test('issue 18 finding 12: net-partition cuts every address of the other side, not only its internal one', async (t) => {
  const docker = new FakeDocker();
  servers(docker);
  const ctx = await fakeContext(docker);
  const active = await injectFault(ctx, registry.configure('net-partition', { params: { from: 'server=web1', to: 'server=lb' } }), AbortSignal.timeout(5000));
  const data = active.record.data as { servers: Array<{ server: string; effect: { peers: string[] } }> };
  t.deepEqual(
    data.servers.map((x) => x.server),
    ['web1'],
  );
  t.deepEqual(data.servers[0]!.effect.peers, ['10.0.0.10', '10.0.1.10'], 'the LB’s edge address is cut too');
  t.regex(active.record.steps.join('\n'), /lb \(10\.0\.0\.10, 10\.0\.1\.10\)/);
  await active.revert();
});

test('issue 18 finding 12: a process fault whose container another revert already started (docker start answers 304) is reverted', async (t) => {
  const docker = new FakeDocker();
  const s = servers(docker);
  const ctx = await fakeContext(docker);
  const active = await injectFault(ctx, registry.configure('container-kill', { target: 'service=web1-app' }), AbortSignal.timeout(5000));
  t.is(s.app.state, 'exited');
  docker.startedByOther.add(s.app.id);
  await t.notThrowsAsync(active.revert());
  t.true(docker.calls.includes(`start ${s.app.id}`), 'start was tried and answered 304');
  t.is(s.app.state, 'running');
  t.deepEqual(await ctx.store.list(), []);
});

// ---- finding 8: a dead man's switch for every fault kind ----

test('issue 18 finding 8: a process fault starts its switch (Docker socket, no network) before the effect; it undoes what revert would; revert removes it', async (t) => {
  const docker = new FakeDocker();
  const s = servers(docker);
  const ctx = await fakeContext(docker);
  const runs: Array<RunOptions & { stateAtStart: string }> = [];
  const run = docker.runDetached.bind(docker);
  docker.runDetached = async (o: RunOptions) => {
    runs.push({ ...o, stateAtStart: s.app.state });
    return run(o);
  };
  const active = await injectFault(ctx, registry.configure('container-pause', { target: 'service=web1-app' }), AbortSignal.timeout(5000));
  t.is(runs.length, 1, 'one switch');
  const sw = runs[0]!;
  t.is(sw.stateAtStart, 'running', 'started before the container was frozen');
  t.is(sw.networkMode, 'none');
  t.deepEqual(sw.binds, ['/var/run/docker.sock:/var/run/docker.sock']);
  t.deepEqual(sw.capAdd, []);
  const script = sw.entrypoint!.join(' ');
  t.true(script.includes(`/containers/${s.app.id}/unpause`), script);
  t.true(script.includes('api GET /_ping'), 'the Docker API is checked before the fault goes on');
  t.regex(script, /sleep \d+ & wait \$!/);
  t.is(s.app.state, 'paused');
  await active.revert();
  t.is(s.app.state, 'running');
  t.false(
    [...docker.containers.values()].some((c) => c.labels['faultline.fault'] === active.id),
    'the switch is removed by the revert',
  );
});

test("issue 18 finding 8: a kill's switch starts the container and restarts what shares its network namespace", async (t) => {
  const docker = new FakeDocker();
  const s = servers(docker);
  const ctx = await fakeContext(docker);
  const runs: RunOptions[] = [];
  const run = docker.runDetached.bind(docker);
  docker.runDetached = async (o: RunOptions) => (runs.push(o), run(o));
  const active = await injectFault(ctx, registry.configure('container-kill', { target: 'service=web1' }), AbortSignal.timeout(5000));
  const script = runs[0]!.entrypoint!.join(' ');
  t.true(script.indexOf(`/containers/${s.web1.id}/start`) < script.indexOf(`/containers/${s.app.id}/restart?t=2`), script);
  await active.revert();
});

test('issue 18 finding 8: a firewall fault arms a sleeper in the server by the same exec that applies it; revert disarms it after the restore', async (t) => {
  const docker = new FakeDocker();
  servers(docker);
  const ctx = await fakeContext(docker);
  const execs: string[][] = [];
  docker.handlers.push((_c, cmd) => {
    execs.push(cmd);
    return undefined;
  });
  const active = await injectFault(ctx, registry.configure('firewall-flush', { target: 'server=web1' }), AbortSignal.timeout(5000));
  const apply = execs.find((c) => c.join(' ').includes('nft -f -'))!;
  t.is(apply.at(-1), `faultline-switch ${active.id}`, '$0 names the switch');
  t.regex(apply[2]!, new RegExp(`echo \\$! > /run/faultline/${active.id}\\.switch`));
  t.true(apply[2]!.indexOf('.switch') < apply[2]!.lastIndexOf('nft -f -'), 'armed before the change');
  t.regex(
    apply[2]!,
    /if \[ -e '(\/run\/faultline\/faultline-fault-[a-z0-9]+\.nft)' \]; then \{ printf 'table inet faultline\\ndelete table inet faultline\\n'; cat '\1'; \} \| nft -f - && rm -f '\1'; fi/,
  );
  await active.revert();
  const restore = execs.at(-1)!.join(' ');
  t.regex(restore, new RegExp(`nft -f - && \\{ if \\[ -e /run/faultline/${active.id}\\.switch \\]`));
});

/** Runs a switch script with the real sh, its folder moved to a temporary one. */
async function sh(script: string, dir: string): Promise<void> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) =>
    execFile('sh', ['-c', script.replaceAll('/run/faultline', dir), 'faultline-switch f-1'], (err) => (err ? reject(err) : resolve())),
  );
}

test('issue 18 finding 8: the sleeper fires after its time unless disarmed; disarming ends it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-switch-'));
  await sh(armScript('f-1', 1, `echo fired > ${dir}/fired`), dir);
  await new Promise((r) => setTimeout(r, 1600));
  t.is((await readFile(join(dir, 'fired'), 'utf8')).trim(), 'fired');

  // Armed twice (a retried apply): the second replaces the first, so exactly one fires.
  await sh(armScript('f-1', 1, `echo once >> ${dir}/twice`), dir);
  await sh(armScript('f-1', 1, `echo once >> ${dir}/twice`), dir);
  await new Promise((r) => setTimeout(r, 1600));
  t.is(await readFile(join(dir, 'twice'), 'utf8'), 'once\n');

  await rm(join(dir, 'fired'));
  await sh(armScript('f-1', 1, `echo fired > ${dir}/fired`), dir);
  const pid = Number((await readFile(join(dir, 'f-1.switch'), 'utf8')).trim());
  await sh(disarmScript('f-1'), dir);
  await new Promise((r) => setTimeout(r, 1600));
  await t.throwsAsync(readFile(join(dir, 'fired'), 'utf8'), undefined, 'never fired');
  const state = await readFile(`/proc/${pid}/stat`, 'utf8').then(
    (x) => x.split(') ')[1]?.[0],
    () => 'gone',
  );
  t.true(state === 'gone' || state === 'Z', `the sleeper has ended (${state})`);
  await t.throwsAsync(readFile(join(dir, 'f-1.switch'), 'utf8'), undefined, 'pid file removed');
});

test('issue 18 finding 8: switch scripts take only validated values into shell text', (t) => {
  t.throws(() => armScript("x'; reboot #", 1, ':'));
  t.throws(() => disarmScript('a b'));
  t.throws(() => edgeUndo([{ path: "/etc/x'y", mode: 0o600, content: Buffer.from('') }], 'SIGHUP'));
  t.throws(() => containersUndo([{ id: 'web1; rm -rf /', unpause: true, start: true, restart: [] }]));
  t.is(switchSeconds(93_000), 93);
  t.is(dockerSocket({}), '/var/run/docker.sock');
  t.is(dockerSocket({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), '/run/user/1000/docker.sock');
  t.throws(() => dockerSocket({ DOCKER_HOST: 'tcp://10.0.0.1:2376' }), { message: /unix socket/ });
});

// ---- finding 12: a revert after `stack up` renewed the certificate ----

/** A HAProxy edge on the fake Docker with a valid site.pem, and the reference stack's edge in the description. */
async function haproxyEdge() {
  const docker = new FakeDocker();
  const pem = (days: number) => {
    const key = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const now = Date.now();
    const c = issueCertificate({
      commonName: 'faultline.local',
      altNames: serverAltNames('faultline.local'),
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + days * 86_400_000),
      keyPem: key.privateKey,
    });
    return Buffer.from(c.certPem + c.keyPem);
  };
  const sitePem = pem(30);
  const lb = docker.add({ name: 'lb-haproxy', labels: stackLabels('lb', 'haproxy', 'lb-haproxy'), files: {} });
  docker.handlers.push((_c, cmd) =>
    cmd.join(' ').includes('base64 -w0') ? { result: { exitCode: 0, stdout: `600\n${sitePem.toString('base64')}\n`, stderr: '' } } : undefined,
  );
  const ctx = await fakeContext(docker);
  Object.assign(ctx.stack.spec, {
    file: '<inline>',
    endpoint: { url: 'https://127.0.0.1:1', hostnames: ['faultline.local'], ready_path: '/', insecure: true },
    edge: { target: 'role=lb,component=haproxy', kind: 'haproxy', certificate: '/etc/haproxy/certs/site.pem', openssl: '/etc/ssl/openssl.cnf' },
  });
  Object.assign(ctx.stack, { httpsUrl: 'https://127.0.0.1:1', httpUrl: 'https://127.0.0.1:1', ca: async () => undefined });
  return { docker, ctx, lb, sitePem, renewedPem: pem(90) };
}

test('issue 18 finding 12: a revert after `stack up` renewed the certificate leaves the renewed one, and puts back only what the fault left', async (t) => {
  const { docker, ctx, lb, sitePem, renewedPem } = await haproxyEdge();
  const def = new FaultRegistry(certificateFaults).get('cert-self-signed');
  const plan = await def.plan(ctx, undefined, {}, AbortSignal.timeout(3000));
  const rec: FaultRecord = {
    id: 'cert-self-signed-1',
    fault: 'cert-self-signed',
    stack: PROJECT,
    params: {},
    targets: plan.targets,
    slots: plan.slots,
    steps: plan.steps,
    status: 'active',
    createdAt: '',
    pid: process.pid,
    hostname: hostname(),
    data: JSON.parse(JSON.stringify(plan.data)) as unknown,
  };
  // The edge restarted by `stack up` with a renewed certificate (stopped here: no reload or handshake on the fake);
  // the copy the swap kept in the edge is still the old one.
  lb.state = 'exited';
  lb.files!['/etc/haproxy/certs/site.pem'] = renewedPem;
  lb.files!['/run/faultline/cert-self-signed-1-site.pem'] = sitePem;
  await ctx.store.add(rec);
  await revertRecord(ctx, def, rec, AbortSignal.timeout(3000));
  t.false(docker.calls.includes(`putArchive ${lb.id}`), 'the old site.pem is not put back over the renewed one');
  t.deepEqual(await ctx.store.list(), []);
});

test("issue 18 finding 8 and 12: the edge's switch puts each file back (mode too) only while it is still the one the fault put, never from a missing copy", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-edge-'));
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  const run = async (files: Array<{ name: string; text: string }>) => {
    for (const f of files) await writeFile(join(dir, f.name), f.text);
    const undo = edgeUndo(
      [
        { path: `${dir}/site.pem`, mode: 0o600, from: `${dir}/copy.pem`, ifSha256: sha('BAD') },
        { path: `${dir}/openssl.cnf`, mode: 0o644, content: Buffer.from("it's [x]\n"), ifSha256: sha('LOWERED') },
      ],
      'SIGUSR2',
    );
    t.true(undo.endsWith('; kill -USR2 1'), 'the reload signal goes to the edge’s main process');
    await sh(undo.replace('kill -USR2 1', `echo reloaded > ${dir}/reloaded`), dir);
    const read = (name: string) => readFile(join(dir, name), 'utf8').catch(() => undefined);
    return { site: await read('site.pem'), cnf: await read('openssl.cnf'), reloaded: await read('reloaded') };
  };
  const restored = await run([
    { name: 'site.pem', text: 'BAD' },
    { name: 'copy.pem', text: 'ORIG' },
    { name: 'openssl.cnf', text: 'LOWERED' },
  ]);
  t.deepEqual(restored, { site: 'ORIG', cnf: "it's [x]\n", reloaded: 'reloaded\n' });
  t.is((await stat(join(dir, 'site.pem'))).mode & 0o777, 0o600);

  const renewed = await run([
    { name: 'site.pem', text: 'RENEWED' },
    { name: 'openssl.cnf', text: 'PRISTINE' },
  ]);
  t.is(renewed.site, 'RENEWED', 'a certificate renewed since is left');
  t.is(renewed.cnf, 'PRISTINE');

  await rm(join(dir, 'copy.pem'));
  const noCopy = await run([{ name: 'site.pem', text: 'BAD' }]);
  t.is(noCopy.site, 'BAD', 'never truncated from a copy that is gone');

  t.throws(() => edgeUndo([{ path: '/x', mode: 0o600, from: '/y', ifSha256: "'; reboot #" }], 'SIGHUP'));
});
