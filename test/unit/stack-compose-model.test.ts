// The stack's shape comes from its compose file: the services (one container each), their servers and
// roles from the labels, the servers' addresses from the internal network; and the web servers from labels.

import test from 'ava';
import { interpolate, parseComposeModel, referenceCompose, serverAddressesOf } from '../../src/stack/compose-model.js';
import { LABEL } from '../../src/stack/docker-client.js';
import { listWords, serverAddresses, webServersOf } from '../../src/stack/servers.js';

/** A two-web-server stack written as the reference one is: anchors, merge keys, labels as a map and a list. */
const SMALL = `
version: "2.4"
x-server: &server
  image: host
  labels: &labels { faultline.stack: "\${FAULTLINE_PROJECT:-faultline}", faultline.component: host }
services:
  lb:
    <<: *server
    networks:
      edge: { ipv4_address: "\${FAULTLINE_EDGE_PREFIX:-10.9.8}.10" }
      internal: { ipv4_address: "\${FAULTLINE_NET_PREFIX:-10.9.7}.10" }
    labels: { faultline.role: lb, faultline.server: lb, faultline.component: host }
  web1: &web
    <<: *server
    networks: { internal: { ipv4_address: "\${FAULTLINE_NET_PREFIX:-10.9.7}.21" } }
    labels: { faultline.role: web, faultline.server: web1, faultline.component: host }
  web1-app:
    image: app
    network_mode: "service:web1"
    labels: ["faultline.role=web", "faultline.server=web1", "faultline.component=app"]
  web2:
    <<: *web
    networks: { internal: { ipv4_address: "\${FAULTLINE_NET_PREFIX:-10.9.7}.22" } }
    labels: { faultline.role: web, faultline.server: web2, faultline.component: host }
`;

test('every service of the file is one expected container, with its server, role and component', (t) => {
  const model = parseComposeModel(SMALL);
  t.deepEqual(
    model.services.map((s) => [s.service, s.server, s.role, s.component]),
    [
      ['lb', 'lb', 'lb', 'host'],
      ['web1', 'web1', 'web', 'host'],
      ['web1-app', 'web1', 'web', 'app'],
      ['web2', 'web2', 'web', 'host'],
    ],
  );
});

test('server addresses: the internal network only, interpolated with the stack’s prefix or the file’s default', (t) => {
  const model = parseComposeModel(SMALL);
  t.deepEqual(serverAddressesOf(model, { FAULTLINE_NET_PREFIX: '10.213.17' }), { lb: '10.213.17.10', web1: '10.213.17.21', web2: '10.213.17.22' });
  t.deepEqual(serverAddressesOf(model, {}), { lb: '10.9.7.10', web1: '10.9.7.21', web2: '10.9.7.22' });
});

test('interpolate: the forms compose knows; a missing required variable is an error naming it', (t) => {
  t.is(interpolate('${A}.${B:-x}.${C-y}.${D:-z}', { A: '1', B: '', C: '', D: '4' }), '1.x..4');
  t.is(interpolate('${NONE}-', {}), '-');
  t.throws(() => interpolate('${IMG:?run faultline stack up}', {}), { message: /IMG: run faultline stack up/ });
  t.is(interpolate('${IMG:?run faultline stack up}', { IMG: 'faultline/host:1' }), 'faultline/host:1');
});

test('an empty or service-less file declares nothing', (t) => {
  t.deepEqual(parseComposeModel(''), { services: [] });
  t.deepEqual(parseComposeModel('version: "2.4"\n'), { services: [] });
});

test('the reference compose file: every service labelled with its server, every server addressed on the internal network', (t) => {
  const model = referenceCompose();
  t.true(model.services.length > 0);
  for (const s of model.services) t.truthy(s.server && s.role && s.component, `${s.service} carries the faultline labels`);
  const servers = [...new Set(model.services.map((s) => s.server!))].sort();
  const addresses = serverAddresses('10.1.2');
  t.deepEqual(Object.keys(addresses).sort(), servers);
  for (const [server, ip] of Object.entries(addresses)) t.regex(ip, /^10\.1\.2\.\d+$/, server);
});

const c = (server: string, role: string, labels: Record<string, string> = {}) => ({ server, role, labels });

test('the web servers are the servers labelled role=web, helpers left out', (t) => {
  const containers = [
    c('lb', 'lb'),
    c('web2', 'web'),
    c('web1', 'web'),
    c('web2', 'web'),
    c('web3', 'web', { [LABEL.helper]: 'fault' }),
    c('db-primary', 'db-primary'),
  ];
  t.deepEqual(webServersOf(containers), ['web1', 'web2']);
  t.deepEqual(webServersOf([]), []);
});

test('listWords reads as the log line did', (t) => {
  t.is(listWords(['web1', 'web2', 'web3']), 'web1, web2 and web3');
  t.is(listWords(['web1', 'web2']), 'web1 and web2');
  t.is(listWords(['web1']), 'web1');
  t.is(listWords([]), '');
});
