// Issue 20's partition goal as a test: node-partition between faultline-node-3 and the manager, measured with the truth
// checks of the one-machine runs (every intended request has one outcome, filed at its intended time; the recovery
// analysis' time to detect), on the fixture fl-pt: load from 127.0.0.1 through an HAProxy front on the manager to app,
// whose only replica is pinned to node-3 (test/fixtures/swarm/fl-pt-stack.yml). The bounds are what a defect would
// break, not this machine's speed: a partition that lets requests through (< 98 % of those intended while the rules
// were in place failed), one that takes effect late (detected more than 1 s after the inject's call), a revert that
// leaves it in place (no success within 10 s of the revert, most requests failing after it, rules left behind, the
// record kept). The recovery analysis' 3 s healthy run is reported, not asserted: on a starved machine late sends break it.
// The measurement is bench/swarm-partition.ts's, which prints the same figures.

import { itest as test, repoRoot, runCli } from '../helpers/stack.js';
import { deployPartitionStack, formatFigures, measurePartition, PT_DESCRIPTION, PT_NODE, removePartitionStack } from '../../bench/swarm-partition.js';
import { attachStack } from '../../src/stack/attach.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { createFaultContext } from '../../src/faults/index.js';

test.before(async () => {
  const up = await runCli(['swarm', 'up', '--nodes', '3'], { timeoutMs: 240_000 });
  if (up.code !== 0) throw new Error(`swarm up: ${up.stderr}`);
  await deployPartitionStack(repoRoot);
});

test.after.always(async () => {
  await runCli(['revert', '--all', '--stack', PT_DESCRIPTION]);
  await removePartitionStack();
});

test.serial('node-partition node-3 ↔ manager: ≥ 98 % of the requests that crossed it failed, detected within 1 s, recovered after the revert', async (t) => {
  t.timeout(300_000);
  const f = await measurePartition((l) => t.log(l));
  for (const l of formatFigures(f)) t.log(l);
  // 10 s at 100 req/s while in effect, less the apply's time: the load ran (a load that sent nothing would pass the ratio).
  t.true(f.crossed.outcomes >= 500, `${f.crossed.outcomes} requests intended while the rules were in place`);
  t.true(f.crossed.failedShare >= 0.98, `${f.crossed.failed}/${f.crossed.outcomes} failed`);
  t.true(f.timeToDetectMs !== null && f.timeToDetectMs <= 1000, `time to detect ${f.timeToDetectMs} ms`);
  t.true(f.firstFailedSecond !== null && f.firstFailedSecond - f.startSecond <= 1, `first failed second ${f.firstFailedSecond}, inject in ${f.startSecond}`);
  t.true(
    f.firstSuccessAfterEndMs !== null && f.firstSuccessAfterEndMs <= f.revertedMs - f.endMs + 10_000,
    `first success ${f.firstSuccessAfterEndMs} ms after the revert`,
  );
  // Rules left behind would fail every later request; a busy machine fails some (late sends), not most.
  const tail = f.perSecond.filter((x) => x.s * 1000 >= f.revertedMs + 3000);
  const tailOk =
    tail.reduce((a, x) => a + x.successes, 0) /
    Math.max(
      1,
      tail.reduce((a, x) => a + x.outcomes, 0),
    );
  t.true(tailOk >= 0.5, `${(100 * tailOk).toFixed(1)} % ok from 3 s after the revert on`);
  const rules = await new DockerClient().exec(PT_NODE, ['iptables', '-S']);
  t.false(rules.stdout.includes('faultline-node-partition-'), 'exactly those rules are gone');
  t.deepEqual(await createFaultContext(await attachStack({ stackFile: PT_DESCRIPTION })).store.list(), []);
});
