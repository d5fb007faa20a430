// Monitoring on the hardened profile (issue 21, item 5): every web server kind counts the client's requests the LB
// passed it with its own monitoring client — nginx's exporter with mtail leaving out what nginx logged as not the
// client's (web1), lighttpd's access log through mtail (web2), caddy's own metrics per handler (web3) — within 5 % of
// the LB's count, health checks and scrapes told apart; every Galera node's database exporter reports mysql_up 1, logged
// in with its own account ('exporter'@'127.0.0.1', the grants mysqld-exporter needs and no more), not the app's.
// The hardened stack is shared with the restart-order tests: this file only reads from it (and sends requests).

import { itest as test } from '../helpers/stack.js';
import { assertPerServerMatch, countThroughLb, mysqlUp } from '../helpers/monitoring.js';
import { ReferenceStack } from '../../src/stack/reference-stack.js';
import { retryUntil } from '../../src/util/retry.js';
import { request } from '../../src/util/http.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;

// Attached when it runs (another test may be bringing it up or restarting its tier: a second `up` at the same time
// collides with the first), brought up only when nothing of it runs; then the LB must answer.
test.before(async () => {
  const ref = new ReferenceStack({ profile: 'hardened' });
  const attached = await ref.attach();
  stack = (await attached.containers()).length > 0 ? attached : await ref.up({ timeoutMs: 900_000 });
  const ca = (await stack.ca()) ?? undefined;
  await retryUntil(
    () =>
      request(`${stack.httpsUrl}/whoami`, { ...(ca ? { ca } : {}), timeoutMs: 5000 }).then(
        (r) => r.status,
        () => 0,
      ),
    (status) => status === 200,
    { timeoutMs: 600_000, intervalMs: 5000, what: 'the hardened stack to answer through its LB' },
  );
});

test.serial('nginx, lighttpd and caddy each count the client requests the LB passed them, within 5 %, without health checks and scrapes', async (t) => {
  const total = 450;
  const counts = await countThroughLb(stack, total);
  t.log(JSON.stringify({ lb: counts.lb, web: counts.web }));
  assertPerServerMatch(t, counts, ['web1', 'web2', 'web3'], total);
});

test.serial("every Galera node's database exporter reports mysql_up 1", async (t) => {
  const up = await retryUntil(
    () => mysqlUp(stack),
    (u) => Object.keys(u).length === 3 && Object.values(u).every((v) => v === 1),
    { timeoutMs: 60_000, intervalMs: 2000, what: 'mysql_up 1 on every Galera node' },
  ).catch(() => mysqlUp(stack));
  t.deepEqual(up, { galera1: 1, galera2: 1, galera3: 1 });
});

test.serial("each Galera node's exporter logs in with its own account, which has the exporter's grants only and none on the app's data", async (t) => {
  const containers = await stack.containers();
  for (const server of ['galera1', 'galera2', 'galera3']) {
    const exporter = containers.find((c) => c.server === server && c.component === 'mysqld-exporter');
    const node = containers.find((c) => c.server === server && c.component === 'mariadb');
    if (!exporter || !node) {
      t.fail(`${server} has no exporter or no mariadb container`);
      continue;
    }
    const cnf = await stack.docker.exec(exporter.id, ['grep', '^user=', '/run/exporter.cnf']);
    t.is(cnf.stdout.trim(), 'user=exporter', `${server}'s exporter logs in as 'exporter', not as the app`);
    // The exporter's own figures, read in the node's network namespace (9104 is open to the monitor only).
    const metrics = await stack.docker.exec(exporter.id, [
      'bash',
      '-c',
      'exec 3<>/dev/tcp/127.0.0.1/9104 && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3',
    ]);
    t.regex(metrics.stdout, /^mysql_up 1$/m, `${server}: mysql_up 1`);
    t.regex(metrics.stdout, /^mysql_exporter_last_scrape_error 0$/m, `${server}: every collector that is on has the grants it needs`);
    const grants = await stack.docker.exec(node.id, ['mariadb', '--protocol=socket', '-uroot', '-N', '-B', '-e', "SHOW GRANTS FOR 'exporter'@'127.0.0.1'"]);
    const lines = grants.stdout
      .trim()
      .split('\n')
      .map((l) => l.replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''));
    t.deepEqual(
      lines,
      [
        'GRANT PROCESS, BINLOG MONITOR ON *.* TO `exporter`@`127.0.0.1` REQUIRE SSL WITH MAX_USER_CONNECTIONS 3',
        'GRANT SELECT ON `performance_schema`.* TO `exporter`@`127.0.0.1`',
      ],
      `${server}: the exporter's grants (REPLICATION CLIENT is BINLOG MONITOR since MariaDB 10.5)`,
    );
  }
});
