// The hardened profile's pure parts: its options and description, the internal certificates, the current writer as
// the database LB sees it, the data path's hops, the cluster verdict and the capacity one flaw costs.

import test from 'ava';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveStackOptions, composeEnv } from '../../src/stack/config.js';
import { referenceSpec } from '../../src/stack/reference-stack.js';
import { referenceCompose } from '../../src/stack/compose-model.js';
import { PROFILES } from '../../src/stack/profiles.js';
import { ensureInternalTls, internalServers, permittedNamesOf } from '../../src/stack/tls.js';
import { markWriter, parseShowStat, writerOf } from '../../src/stack/writer.js';
import { backendTls, dataPathHops, type InternalFacts } from '../../src/probes/internal-encryption.js';
import { judgeCluster, type ClusterNodeFacts } from '../../src/probes/cluster.js';
import { webCapacityLost } from '../../src/experiment/metrics.js';
import type { ActivityRecord } from '../../src/experiment/journal.js';
import { containerSummary } from '../helpers/fake-docker.js';

test('--profile hardened has its own defaults, so both profiles run side by side; the environment and flags still win', (t) => {
  const h = resolveStackOptions({ profile: 'hardened' }, {});
  t.like(h, { profile: 'hardened', project: 'faultline-hardened', httpPort: 8081, httpsPort: 8444, netPrefix: '10.213.17', edgePrefix: '10.213.18' });
  const b = resolveStackOptions({}, {});
  t.like(b, { profile: 'baseline', project: 'faultline', httpsPort: 8443, netPrefix: '10.213.7' });
  t.is(resolveStackOptions({ profile: 'hardened', httpsPort: 9999 }, {}).httpsPort, 9999);
  t.is(resolveStackOptions({}, { FAULTLINE_PROFILE: 'hardened' }).project, 'faultline-hardened');
  const err = t.throws(() => resolveStackOptions({ profile: 'paranoid' as never }, {}));
  t.regex(err!.message, /profile.*"paranoid" is not a profile \(baseline or hardened\)/);
});

test('the hardened compose file names every image the profile builds, and one description reads it', async (t) => {
  const o = resolveStackOptions({ profile: 'hardened', home: '/h' }, {});
  const env = composeEnv(o, Object.fromEntries(PROFILES.hardened.images.map((n) => [n, `tag-${n}`])), '/h/faultline-hardened/tls/lb');
  t.is(env.FAULTLINE_IMAGE_GALERA_LB, 'tag-galera-lb');
  t.is(env.FAULTLINE_INTERNAL_TLS_DIR, '/h/faultline-hardened/tls/internal');
  const text = await readFile(PROFILES.hardened.composeFile, 'utf8');
  const used = [...text.matchAll(/\$\{(FAULTLINE_IMAGE_[A-Z_]+)/g)].map((m) => m[1]);
  t.deepEqual(
    [...new Set(used)].sort(),
    Object.keys(env)
      .filter((k) => k.startsWith('FAULTLINE_IMAGE_'))
      .sort(),
  );
  const model = referenceCompose('hardened');
  const kinds = model.services.filter((s) => s.role === 'web' && ['nginx', 'lighttpd', 'caddy'].includes(s.component ?? ''));
  t.deepEqual(
    kinds.map((s) => `${s.server}:${s.component}`),
    ['web1:nginx', 'web2:lighttpd', 'web3:caddy'],
    'one web server kind per server',
  );
  t.deepEqual(
    model.services.filter((s) => s.component === 'mariadb').map((s) => s.server),
    ['galera1', 'galera2', 'galera3'],
  );
  const spec = await referenceSpec(o);
  t.is(spec.project, 'faultline-hardened');
  t.deepEqual(spec.writer, { server: 'db-lb', proxy: 'galera', socket: '/run/haproxy/admin.sock' });
  t.deepEqual(
    Object.values(spec.databases).map((d) => [d.role, d.ca]),
    [1, 2, 3].map(() => ['node', '/h/faultline-hardened/tls/internal/ca.pem']),
  );
  t.deepEqual(
    spec.readback.map((r) => r.name),
    ['galera1', 'galera2', 'galera3'],
  );
});

test('internal certificates: a CA constrained to the inside names, one certificate per server for the names it is dialled by, kept while fit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-internal-'));
  const lbDir = await mkdtemp(join(tmpdir(), 'fl-lb-'));
  const first = await ensureInternalTls(dir, { lbDir }, 'p', '10.9.8');
  t.deepEqual(first.renewed, ['the internal CA', 'web1', 'web2', 'web3', 'galera1', 'galera2', 'galera3']);
  const ca = new X509Certificate(await readFile(first.caPath, 'utf8'));
  const permitted = permittedNamesOf(ca.toString())!;
  t.false(permitted.dns.includes('localhost') && permitted.dns.includes('faultline.local'), 'no public name');
  t.true(permitted.ips.includes('10.9.8.30') && !permitted.ips.includes('10.9.8.1'));
  const web2 = new X509Certificate(await readFile(join(dir, 'web2', 'server.pem'), 'utf8'));
  t.true(web2.checkIssued(ca));
  t.truthy(web2.checkHost('web2'));
  t.falsy(web2.checkHost('web1'), 'a web server certificate is valid for that server only');
  const g3 = new X509Certificate(await readFile(join(dir, 'galera3', 'node.pem'), 'utf8'));
  t.truthy(g3.checkIP('10.9.8.33'));
  t.truthy(g3.checkIP('10.9.8.30'), 'clients dial the database LB');
  t.is(await readFile(join(lbDir, 'internal-ca.pem'), 'utf8'), await readFile(first.caPath, 'utf8'), 'the LB verifies the web servers against it');
  t.is((await stat(join(dir, 'ca-key.pem'))).mode & 0o777, 0o600);
  const again = await ensureInternalTls(dir, { lbDir }, 'p', '10.9.8');
  t.deepEqual(again.renewed, []);
  t.is(internalServers('10.9.8').length, 6);
});

const SHOW_STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail
galera,FRONTEND,,,0,1,2000,3,0,0,0,0,0,,,,,OPEN,,,,
galera,galera1,0,0,0,1,,3,0,0,,0,,0,0,0,0,DOWN,1,1,0,5
galera,galera2,0,0,0,1,,3,0,0,,0,,0,0,0,0,UP,1,0,1,0
galera,galera3,0,0,0,1,,3,0,0,,0,,0,0,0,0,UP,1,0,1,0
galera,BACKEND,0,0,0,1,200,3,0,0,0,0,,0,0,0,0,UP,2,1,2,,
`;

test('the writer is the first active server that is up, else the first backup that is up, as HAProxy chooses', (t) => {
  const rows = parseShowStat(SHOW_STAT);
  t.is(rows.length, 3);
  t.is(writerOf(rows, 'galera'), 'galera2', 'galera1 is down: the first backup');
  t.is(
    writerOf(
      rows.map((r) => (r.server === 'galera1' ? { ...r, status: 'UP 1/2' } : r)),
      'galera',
    ),
    'galera1',
    'going down still takes sessions',
  );
  t.is(
    writerOf(
      rows.map((r) => (r.server === 'galera1' ? { ...r, status: 'DOWN 1/3' } : r)),
      'galera',
    ),
    'galera2',
    'coming up does not yet',
  );
  t.is(
    writerOf(
      rows.map((r) => ({ ...r, status: 'DOWN' })),
      'galera',
    ),
    undefined,
  );
  t.throws(() => parseShowStat('Unknown command\n'), { message: /not HAProxy show stat output/ });
  const list = [
    containerSummary({ server: 'galera2', role: 'db', component: 'mariadb' }),
    containerSummary({ server: 'galera1', role: 'db', component: 'mariadb' }),
  ];
  t.deepEqual(
    markWriter(list, 'galera2').map((c) => c.role),
    ['db-primary', 'db'],
  );
});

test('backendTls reads how the LB reaches each web server from its configuration', (t) => {
  const hardened = `backend web
    default-server check ssl verify required ca-file /x/ca.pem
    server web1 10.0.0.21:443 sni str(web1) verifyhost web1
frontend metrics
    bind :8404
`;
  t.deepEqual(backendTls(hardened), { web1: 'verified' });
  t.deepEqual(backendTls('backend web\n  server web1 10.0.0.21:80\n  server web2 10.0.0.22:443 ssl verify none\n'), { web1: 'plain', web2: 'unverified' });
});

const tlsDb = {
  reachable: true,
  error: null,
  haveSsl: 'YES',
  requireSecureTransport: true,
  accountsRequireTls: { app: true },
  replicationSsl: null,
  clusterSsl: true,
};

test('plaintext hops on the data path: the baseline has three, the hardened profile none', (t) => {
  const baseline: InternalFacts = {
    http: ['web1', 'web2', 'web3'].map((w) => ({ from: 'lb', to: w, address: 'x', plaintextStatus: 200, lbTls: 'plain' as const, error: null })),
    db: {
      reachable: true,
      error: null,
      haveSsl: 'YES',
      requireSecureTransport: false,
      accountsRequireTls: { app: false },
      replicationSsl: 'No',
      clusterSsl: null,
    },
  };
  t.deepEqual(
    dataPathHops(baseline).map((h) => [h.from, h.to, h.encrypted]),
    [
      ['lb', 'web servers', false],
      ['web servers', 'database', false],
      ['db-primary', 'db-replica', false],
    ],
  );
  const hardened: InternalFacts = {
    http: ['web1', 'web2', 'web3'].map((w) => ({ from: 'lb', to: w, address: 'x', plaintextStatus: null, lbTls: 'verified' as const, error: 'curl exit 28' })),
    db: tlsDb,
  };
  t.deepEqual(
    dataPathHops(hardened).map((h) => h.encrypted),
    [true, true, true],
  );
  const oneUnverified = { ...hardened, http: hardened.http.map((h, i) => (i === 1 ? { ...h, lbTls: 'unverified' as const } : h)) };
  t.regex(dataPathHops(oneUnverified)[0]!.detail, /web2: LB → web2 is unverified/);
  t.false(dataPathHops({ ...hardened, db: { ...tlsDb, clusterSsl: false } })[2]!.encrypted);
});

const node = (name: string, over: Record<string, string> = {}): ClusterNodeFacts => ({
  name,
  reachable: true,
  error: null,
  status: {
    wsrep_local_state: '4',
    wsrep_cluster_status: 'Primary',
    wsrep_cluster_size: '3',
    wsrep_ready: 'ON',
    wsrep_provider_options: 'socket.ssl = YES; gcache.size = 64M',
    ...over,
  },
});

test('the cluster passes only with every node Synced in one Primary component of full size, links over TLS and a writer', (t) => {
  const ok = judgeCluster({ nodes: [node('galera1'), node('galera2'), node('galera3')], writer: 'galera1', writerError: null });
  t.true(ok.passed);
  t.deepEqual(ok.value, { synced: ['galera1', 'galera2', 'galera3'], size: 3, writer: 'galera1', encrypted: true });
  const joining = judgeCluster({
    nodes: [
      node('galera1', { wsrep_cluster_size: '2' }),
      node('galera2', { wsrep_cluster_size: '2' }),
      { name: 'galera3', reachable: false, error: 'ECONNREFUSED', status: {} },
    ],
    writer: 'galera2',
    writerError: null,
  });
  t.false(joining.passed);
  t.deepEqual(joining.findings.map((f) => f.id).sort(), ['cluster-degraded', 'db-unreachable']);
  const plain = judgeCluster({ nodes: [node('galera1', { wsrep_provider_options: 'socket.ssl = NO' })], writer: 'galera1', writerError: null });
  t.false(plain.passed);
  t.is(plain.findings[0]!.id, 'internal-plaintext-replication');
});

test('web capacity lost: the share of web servers a fault took a component of', (t) => {
  const fault = (servers: string[]): ActivityRecord => ({
    kind: 'fault',
    name: 'component-down',
    phase: 'method',
    status: 'succeeded',
    start: '',
    end: '',
    output: { servers },
  });
  const webs = ['web1', 'web2', 'web3'];
  t.is(webCapacityLost([fault(['web1', 'web2', 'web3'])], webs), 1);
  t.is(webCapacityLost([fault(['web1'])], webs), 1 / 3);
  t.is(webCapacityLost([fault(['galera1'])], webs), null, 'a database fault costs no web capacity');
  t.is(webCapacityLost([], webs), null);
});
