// What the probes and the bundle read from a stack description instead of asking whether the stack is
// faultline's own: both reference descriptions declare exactly what was hard-coded for them, and the shop
// fixture (a user's stack) declares none of it.

import test from 'ava';
import { join } from 'node:path';
import { loadStackSpec } from '../../src/stack/spec.js';
import { PROFILES } from '../../src/stack/profiles.js';
import { referenceVars } from '../../src/stack/reference-stack.js';
import { resolveStackOptions } from '../../src/stack/config.js';
import { packageRoot } from '../../src/stack/paths.js';
import { qpsQueries } from '../../src/probes/qps.js';
import { bundleFiles, bundleSamples } from '../../src/report/bundle.js';

/** What qps.ts and bundle.ts held for the reference stack before the descriptions said it. */
const WAS = {
  qps: {
    frontend: 'sum(haproxy_frontend_http_requests_total{proxy="www"})',
    freshness: 'max(timestamp(haproxy_frontend_http_requests_total{proxy="www"}))',
    lbPerServer: 'sum by (exported_server) (haproxy_server_http_responses_total{proxy="web"})',
    // Each web server's own count of the client's requests: nginx's minus what mtail counted as not the client's, lighttpd's and caddy's.
    nginxPerServer:
      'sum by (server) (nginx_http_requests_total)' +
      ' or label_replace(sum by (server) (nginx_lb_checks_total), "not_client", "lb_check", "", "")' +
      ' or label_replace(sum by (server) (nginx_status_scrapes_total), "not_client", "scrape", "", "")' +
      ' or sum by (server) (lighttpd_client_requests_total)' +
      ' or sum by (server) (caddy_http_requests_total{handler="request_body"})',
  },
  samples: {
    'haproxy-requests-per-second': 'sum(rate(haproxy_frontend_http_requests_total[5s]))',
    'haproxy-server-up': 'haproxy_server_status',
    'nginx-requests-per-second': 'rate(nginx_http_requests_total[5s])',
    'mysql-up': 'mysql_up',
    'replica-lag-seconds': 'mysql_slave_status_seconds_behind_master',
    'node-cpu-busy': '1 - avg by (server) (rate(node_cpu_seconds_total{mode="idle"}[5s]))',
    'targets-up': 'up',
  },
};

for (const profile of ['baseline', 'hardened'] as const) {
  test(`${profile}: the description declares the QPS queries, the bundle's samples and files, and the inside TLS check`, async (t) => {
    const o = resolveStackOptions({ profile }, {});
    const spec = await loadStackSpec(PROFILES[profile].specFile, { ...referenceVars(o), FAULTLINE_STATE_DIR: '/state', FAULTLINE_INTERNAL_TLS_DIR: '/tls' });
    t.deepEqual(qpsQueries(spec), WAS.qps);
    t.deepEqual(bundleSamples(spec), WAS.samples);
    t.true(spec.tls_inside);
    t.deepEqual(bundleFiles(spec), [PROFILES[profile].composeFile]);
  });
}

test("a user's stack (the shop fixture): no inside check, no samples but its requests counter, no files", async (t) => {
  const spec = await loadStackSpec(join(packageRoot, 'test/fixtures/shop/shop.stack.yaml'), {});
  t.falsy(spec.tls_inside);
  t.deepEqual(bundleFiles(spec), []);
  t.deepEqual(bundleSamples(spec), spec.prometheus?.qps_query ? { requests: spec.prometheus.qps_query } : {});
});

test('without named queries, the QPS queries derive from qps_query as before', (t) => {
  t.deepEqual(qpsQueries({ prometheus: { port: 9090, qps_query: 'sum by (server) (reqs)' } }), {
    frontend: 'sum(sum by (server) (reqs))',
    freshness: 'max(timestamp(sum by (server) (reqs)))',
    lbPerServer: 'sum by (server) (reqs)',
    nginxPerServer: null,
  });
  t.throws(() => qpsQueries({}), { message: /stack\.prometheus\.qps_query: not declared/ });
});
