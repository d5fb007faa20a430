// `stack up` over an older stack: a server that compose recreated leaves the components in its namespace
// behind (compose v1), and those are the ones recreated, nothing else.

import test from 'ava';
import { staleNamespaceServices, type NamespaceUse } from '../../src/stack/servers.js';

const host = (server: string, id: string): NamespaceUse => ({
  container: { id, server, component: 'host', service: server, state: 'running' },
  networkMode: `${server}_internal`,
});
const part = (server: string, component: string, ns: string): NamespaceUse => ({
  container: { id: `${server}-${component}-id`, server, component, service: `${server}-${component}`, state: 'running' },
  networkMode: `container:${ns}`,
});

test('components left in a recreated server namespace are stale; those in the current one are not', (t) => {
  const web1 = 'a'.repeat(64);
  const web2 = 'b'.repeat(64);
  const gone = 'c'.repeat(64);
  const list = [
    host('web1', web1),
    host('web2', web2),
    part('web1', 'nginx', gone),
    part('web1', 'app', web1),
    part('web2', 'nginx', web2),
    part('web2', 'nginx-exporter', gone),
  ];
  t.deepEqual(staleNamespaceServices(list), ['web1-nginx', 'web2-nginx-exporter']);
});

test('a short id counts as the same namespace; a component whose server has no host container is left alone', (t) => {
  const id = 'd'.repeat(64);
  t.deepEqual(staleNamespaceServices([host('lb', id), part('lb', 'haproxy', id.slice(0, 12)), part('db-primary', 'mariadb', 'e'.repeat(64))]), []);
});
