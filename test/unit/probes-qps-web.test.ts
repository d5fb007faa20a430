// The QPS probe's per-server view: each web server's own count of the client's requests, with what it counted that was
// not the client's (series labelled not_client) subtracted, each counter differenced on its own.

import test from 'ava';
import { compareQps, perServerFindings, webClientCounts } from '../../src/probes/qps.js';
import type { RangeSeries } from '../../src/probes/prometheus.js';

const series = (metric: Record<string, string>, values: number[]): RangeSeries => ({ metric, values: values.map((v, i) => [1000 + i, v] as [number, number]) });

test('not_client series are subtracted per server; kinds without them count as they are', (t) => {
  const out = webClientCounts([
    series({ server: 'web1' }, [100, 150, 210]),
    series({ server: 'web1', not_client: 'lb_check' }, [40, 41, 43]),
    series({ server: 'web1', not_client: 'scrape' }, [40, 41, 42]),
    series({ server: 'web2' }, [7, 57, 107]),
    series({ server: 'web3' }, [0, 50, 100]),
  ]);
  t.deepEqual(out.client, { web1: 110 - 3 - 2, web2: 100, web3: 100 });
  t.deepEqual(out.notClient, { web1: 5 });
});

test('a difference of two counters read at different instants would dip; differenced apart, nothing reads as a reset', (t) => {
  // nginx's total read just before a health check, mtail's count just after it: total − checks dips from 60 to 59.
  const total = series({ server: 'web1' }, [50, 60, 60, 70]);
  const checks = series({ server: 'web1', not_client: 'lb_check' }, [0, 0, 1, 1]);
  t.deepEqual(webClientCounts([total, checks]).client, { web1: 19 });
});

test('a restart of the server resets both counters: each delta starts again from the new value', (t) => {
  const total = series({ server: 'web1' }, [500, 520, 3, 13]);
  const checks = series({ server: 'web1', not_client: 'lb_check' }, [200, 202, 1, 2]);
  t.deepEqual(webClientCounts([total, checks]).client, { web1: 20 + 3 + 10 - (2 + 1 + 1) });
});

test('a server with only not_client series has no count of its own', (t) => {
  t.deepEqual(webClientCounts([series({ server: 'web1', not_client: 'scrape' }, [1, 2])]).client, {});
});

test('compareQps reports the client count per server and what was left out', (t) => {
  const { details } = compareQps({
    window: { startS: 1000, endS: 1002 },
    client: null,
    frontend: series({}, [0, 30]),
    lbPerServer: [series({ exported_server: 'web1' }, [0, 30])],
    nginxPerServer: [series({ server: 'web1' }, [10, 42]), series({ server: 'web1', not_client: 'lb_check' }, [5, 7])],
  });
  t.deepEqual(details.nginxPerServer, { web1: 30 });
  t.deepEqual(details.perServerDifference, { web1: 0 });
  t.deepEqual(details.webNotClientPerServer, { web1: 2 });
});

test('a web server more than the tolerance apart from the LB is a finding; small shares and servers without a count are not judged', (t) => {
  const findings = perServerFindings({ lbPerServer: { web1: 100, web2: 100, web3: 100, web4: 20 }, nginxPerServer: { web1: 105, web2: 117, web4: 40 } }, 0.05);
  t.deepEqual(
    findings.map((f) => f.message),
    ["web2 counted 117 of the client's requests, the LB passed it 100 (17.0% apart)"],
  );
  t.is(findings[0]?.id, 'web-count-mismatch');
});
