// The hardened profile's Galera tier when no node knows its position (issue 21, item 4; npm run test:hardened, nightly):
// every node crashed and none can read the position InnoDB reached (`mariadbd --wsrep-recover` fails on each; galera3
// has lost its grastate.dat too), so the latest writes cannot be told. The tier must not guess: no node bootstraps, each says in its log why it waits, and
// `faultline stack status` says it on each node's line. The operator's documented action (docs/galera.md: pick the
// node, `touch /run/galera-bootstrap` in it) then brings the tier back with every row it had. The failing recovery is
// injected with a wrapper in place of each node's /usr/sbin/mariadbd (the server moved beside it): it fails
// `--wsrep-recover` only and runs the real server otherwise; the test puts the server back before the operator acts.
// In place, not first in PATH: the entrypoint's bash remembers where it found mariadbd, and a wrapper removed from
// another directory would leave it calling a file that is gone.
// The same test checks what `stack up` promises (it returns only once every node is UP in the database LB, so the
// tier can fail over) and that the exporter's account is made again at each start (a tier whose volumes were made
// before the account existed: the account is dropped before the crash).

import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ContainerSummary } from '../../src/stack/docker-client.js';
import { itest, runCli } from '../helpers/stack.js';
import { converged, galeraNodes, logSince, rowsOf, sql, upHardened as upStack, waitLog } from '../helpers/galera.js';

/** Fails `mariadbd --wsrep-recover` (with a line in its error log, as a real failure leaves); anything else runs the server. */
const WRAPPER = `#!/bin/bash
# test/hardened/no-position.test.ts: this node cannot read the position InnoDB reached.
for a in "$@"; do
  if [ "$a" = --wsrep-recover ]; then
    for b in "$@"; do case "$b" in --log-error=*) echo "[ERROR] WSREP: recovery failed (injected by no-position.test.ts)" >> "\${b#*=}" ;; esac; done
    exit 1
  fi
done
exec /usr/sbin/mariadbd.real "$@"
`;
const PLANT = 'mv /usr/sbin/mariadbd /usr/sbin/mariadbd.real && cat > /usr/sbin/mariadbd && chmod 755 /usr/sbin/mariadbd';
const RESTORE = '[ ! -e /usr/sbin/mariadbd.real ] || mv -f /usr/sbin/mariadbd.real /usr/sbin/mariadbd';

async function shell(stack: AttachedStack, id: string, script: string, stdin?: string): Promise<string> {
  const r = await stack.docker.exec(id, ['bash', '-c', script], stdin === undefined ? {} : { stdin });
  if (r.exitCode !== 0) throw new Error(`${script}: exit ${r.exitCode}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

itest.serial('no node knows its position: the tier waits and says so, and the documented operator action brings it back with every row', async (t) => {
  let stack = await upStack();
  const nodes = await galeraNodes(stack);
  t.is(nodes.length, 3, 'three Galera nodes');
  const [g1] = nodes as [ContainerSummary];
  const values = Array.from({ length: 20 }, (_, i) => `('no-position-${Date.now()}-${i}', 'before', 'test')`).join(', ');
  await sql(stack, g1.id, `INSERT INTO faultline.items (item_key, value, server) VALUES ${values}`);
  const before = await rowsOf(stack, g1.id);
  // As on volumes made before the exporter's account existed (Galera replicates the DROP to every node).
  await sql(stack, g1.id, "DROP USER IF EXISTS 'exporter'@'127.0.0.1'");

  for (const n of nodes) await shell(stack, n.id, `${RESTORE}; ${PLANT}`, WRAPPER);
  // galera3 loses its grastate.dat as well (Galera rewrites it at a clean stop or a view change, neither of which
  // comes before the kill): its data belongs to a cluster it cannot even name, which must not read as an empty datadir.
  await shell(stack, nodes[2]!.id, 'rm -f /var/lib/mysql/grastate.dat');
  const sinceIso = new Date().toISOString();
  try {
    await Promise.all(nodes.map((n) => stack.docker.kill(n.id)));
    await Promise.all(nodes.map((n) => stack.docker.start(n.id)));
    for (const n of nodes) {
      const log = await waitLog(stack, n, sinceIso, /waiting: no node knows its position/, 240_000);
      t.regex(log, /position recovery failed: this node does not know its position/, `${n.server} says its recovery failed`);
      t.regex(
        log,
        /an operator must pick the node to bootstrap from and run docker exec <its container> touch \/run\/galera-bootstrap/,
        `${n.server} says what to do`,
      );
    }
    t.regex(await logSince(stack, nodes[2]!, sinceIso), /\(position \?:-1\)/, 'galera3 says its cluster is unknown too');
    // Still waiting a while later: nobody guessed.
    await new Promise((r) => setTimeout(r, 15_000));
    for (const n of nodes) {
      const log = await logSince(stack, n, sinceIso);
      t.notRegex(log, /bootstrapping|creating the cluster|joining/, `${n.server} neither bootstrapped nor joined`);
      const check = await stack.docker.exec(n.id, ['galera-check', '--exit-code']);
      t.regex(check.stdout, /^waiting: no node knows its position \(galera1 galera2 galera3\)/, `${n.server}'s health says why`);
    }
    const status = await runCli(['stack', 'status', '--profile', 'hardened']);
    const lines = status.stdout.split('\n').filter((l) => /mariadb\s+running\s+\S+: waiting: no node knows its position/.test(l));
    t.is(lines.length, 3, `stack status says it on each node's line:\n${status.stdout}`);
  } finally {
    for (const n of nodes) await shell(stack, n.id, RESTORE).catch(() => undefined);
  }

  // The operator's action (docs/galera.md): every node was at the same place, so any will do; galera1.
  const since = Date.now();
  await shell(stack, g1.id, 'touch /run/galera-bootstrap');
  const s = await converged(stack, nodes, since);
  t.log(`one Primary component of three Synced nodes ${s.toFixed(1)} s after the operator's action`);
  for (const n of nodes) t.is(await rowsOf(stack, n.id), before, `${n.server} holds every row it held before`);
  const logs = await Promise.all(nodes.map((n) => logSince(stack, n, sinceIso)));
  t.regex(logs[0]!, /an operator asked this node to bootstrap/);
  t.is(
    logs.filter((l) => /an operator asked this node to bootstrap|bootstrapping from its state|creating the cluster/.test(l)).length,
    1,
    'one node bootstrapped',
  );
  t.false(
    logs.some((l) => /IST didn't contain all write sets/.test(l)),
    'no node joined beside another',
  );
  t.is(
    await shell(stack, g1.id, 'ls /run/galera-bootstrap 2> /dev/null || true'),
    '',
    'the operator flag was consumed (a later start does not bootstrap again)',
  );

  // `stack up` returns only when the tier can fail over: every node UP in the database LB at that moment.
  stack = await upStack();
  const dbLb = (await stack.containers()).find((c) => c.server === 'db-lb' && c.component === 'haproxy');
  t.truthy(dbLb, 'the database LB runs');
  const lbCheck = await stack.docker.exec(dbLb!.id, ['galera-lb-check']);
  t.is(lbCheck.exitCode, 0, `every Galera node is UP in the database LB when stack up returns: ${lbCheck.stdout}`);

  // The exporter's account was made again, on a tier whose volumes did not have it.
  for (const n of nodes) {
    const grants = await sql(stack, n.id, "SHOW GRANTS FOR 'exporter'@'127.0.0.1'");
    t.regex(grants, /GRANT PROCESS, BINLOG MONITOR ON \*\.\* TO `exporter`@`127\.0\.0\.1`/, `${n.server} has the exporter's account`);
  }
});
