// Human output of the probes the CLI prints most: health (one line per server), internal-encryption and cluster.

import test from 'ava';
import { observation } from '../../src/probes/runner.js';
import { renderObservation } from '../../src/probes/render.js';
import { judgeHealth } from '../../src/probes/health.js';
import { internalFindings, type InternalFacts } from '../../src/probes/internal-encryption.js';
import { judgeCluster, type ClusterFacts } from '../../src/probes/cluster.js';
import type { ContainerSummary } from '../../src/stack/docker-client.js';

/** A Synced member of a two-node Primary component with these provider options. */
const synced = (options: string): Record<string, string> => ({
  wsrep_local_state: '4',
  wsrep_cluster_status: 'Primary',
  wsrep_cluster_size: '2',
  wsrep_provider_options: options,
  require_secure_transport: '1',
});

function container(service: string, server: string, component: string, state = 'running', health = 'healthy'): ContainerSummary {
  return {
    id: service,
    name: service,
    service,
    server,
    component,
    role: server,
    state,
    health,
    labels: {},
    addresses: {},
    ports: [],
  } as unknown as ContainerSummary;
}

test('health: one line per server; a container that is not fine is named with its state', (t) => {
  const j = judgeHealth([
    container('web1', 'web1', 'host'),
    container('web1-app', 'web1', 'app', 'exited', 'none'),
    container('lb', 'lb', 'host'),
    container('lb-haproxy', 'lb', 'haproxy'),
  ]);
  const text = renderObservation(
    observation(
      'health',
      { at: 0, wall: 0 },
      { value: j.value, tolerance: { type: 'atMost', max: 0 }, details: { containers: j.list }, findings: j.findings, passed: false },
      3,
    ),
  );
  const lines = text.split('\n');
  t.regex(lines[0]!, /^probe health: FAILED/);
  t.is(lines[1], '  4 containers: 1 not fine');
  t.is(lines[2], '  ok  lb          host, haproxy');
  t.is(lines[3], '  BAD web1        host, app EXITED');
  t.regex(text, /\[high\] container-down: web1-app is exited/);
});

test('internal-encryption: grade, plaintext hops and the database transport', (t) => {
  const facts: InternalFacts = {
    http: [{ from: 'lb', to: 'web1', address: '10.0.0.11', plaintextStatus: 200, lbTls: 'plain', error: null }],
    db: {
      reachable: true,
      error: null,
      haveSsl: 'DISABLED',
      requireSecureTransport: false,
      accountsRequireTls: { app: false },
      replicationSsl: 'No',
      clusterSsl: null,
    },
  };
  const findings = internalFindings(facts);
  const text = renderObservation(
    observation(
      'internal-encryption',
      { at: 0, wall: 0 },
      {
        value: { grade: 'C', plaintextHops: 3, hops: [] },
        tolerance: { type: 'regex', pattern: '^A$' },
        details: { internal: facts },
        findings,
        passed: false,
      },
      3,
    ),
  );
  t.regex(text, /grade C \(inside the stack\), 3 plaintext hop\(s\)/);
  t.regex(text, /lb→web1:80 plaintext 200/);
  t.regex(text, /database: have_ssl=DISABLED/);
  t.regex(text, /\[high\] internal-plaintext-db/);
});

test('internal-encryption: an unreachable database is said in one line, not as "?" fields', (t) => {
  const facts: InternalFacts = {
    http: [],
    db: {
      reachable: false,
      error: 'connect ETIMEDOUT',
      haveSsl: null,
      requireSecureTransport: null,
      accountsRequireTls: {},
      replicationSsl: null,
      clusterSsl: null,
    },
  };
  const text = renderObservation(
    observation(
      'internal-encryption',
      { at: 0, wall: 0 },
      { value: { grade: 'A', plaintextHops: 0 }, tolerance: null, details: { internal: facts }, findings: internalFindings(facts) },
      3,
    ),
  );
  t.regex(text, /database: not checked \(connect ETIMEDOUT\)/);
  t.regex(text, /no LB → web hop found/);
});

test('cluster: the component, the writer and one line per node, not a JSON dump', (t) => {
  const facts: ClusterFacts = {
    nodes: [
      { name: 'galera1', reachable: true, error: null, status: synced('socket.ssl=YES') },
      { name: 'galera2', reachable: true, error: null, status: { ...synced('socket.ssl=NO'), wsrep_local_state: '2' } },
      { name: 'galera3', reachable: false, error: 'connect ECONNREFUSED', status: {} },
    ],
    writer: 'galera1',
    writerError: null,
  };
  const j = judgeCluster(facts);
  const text = renderObservation(
    observation(
      'cluster',
      { at: 0, wall: 0 },
      { value: j.value, tolerance: { type: 'boolean', expect: true }, details: { ...facts }, findings: j.findings, passed: j.passed },
      3,
    ),
  );
  const lines = text.split('\n');
  t.is(lines[1], '  component  1 of 3 node(s) Synced in the Primary component (size 2); group traffic NOT all TLS');
  t.is(lines[2], '  writer     galera1');
  t.is(lines[3], '  galera1    Synced Primary, socket.ssl on, require_secure_transport ON');
  t.is(lines[4], '  galera2    state 2 Primary, socket.ssl off, require_secure_transport ON');
  t.is(lines[5], '  galera3    unreachable: connect ECONNREFUSED');
  t.notRegex(text, /value \{/);
});
