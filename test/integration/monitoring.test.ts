// Monitoring on the reference stack (issue 21, item 5): each nginx's own monitoring client (its exporter, with the
// requests nginx logged as not the client's counted by mtail and left out) counts the client's requests the LB passed
// to it within 5 %, health checks and scrapes told apart; every database exporter reports its server up.

import { itest as test, sharedStack } from '../helpers/stack.js';
import { assertPerServerMatch, countThroughLb, mysqlUp } from '../helpers/monitoring.js';
import { retryUntil } from '../../src/util/retry.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;

test.before(async () => {
  stack = await sharedStack();
});

test.serial('each web server counts the client requests the LB passed it, within 5 %, without health checks and scrapes', async (t) => {
  const total = 450;
  const counts = await countThroughLb(stack, total);
  t.log(JSON.stringify({ lb: counts.lb, web: counts.web }));
  assertPerServerMatch(t, counts, ['web1', 'web2', 'web3'], total);
});

test.serial('every database exporter reports mysql_up 1', async (t) => {
  const up = await retryUntil(
    () => mysqlUp(stack),
    (u) => Object.keys(u).length === 2 && Object.values(u).every((v) => v === 1),
    { timeoutMs: 30_000, intervalMs: 2000, what: 'mysql_up 1 on every database server' },
  ).catch(() => mysqlUp(stack));
  t.deepEqual(up, { 'db-primary': 1, 'db-replica': 1 });
});
