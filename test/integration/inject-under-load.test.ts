// `faultline fault inject --under-load` against the real reference stack, as a user runs it: the load starts before the
// fault and ends after its revert, the fault's effect shows in the load's own numbers, and nothing is left behind.
// (test/load/inject-under-load.test.ts holds the same path with a fake fault against a local server.)

import { itest as test, runCli, sharedStack } from '../helpers/stack.js';
import { exclusive, helperContainers, snapshot } from '../helpers/faults.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;

test.before(async () => {
  stack = await sharedStack();
});

/** The load's summary line: "faultline load paced 50 req/s …: 612 requests in 12.2 s (…), 99.51% ok, … p99 4.07 s". */
function summary(stdout: string): { requests: number; seconds: number; ok: number; p99Ms: number } {
  const line = stdout.split('\n').find((l) => l.startsWith('faultline load '));
  if (!line) throw new Error(`no load summary in: ${stdout}`);
  const m = /: (\d+) requests in ([\d.]+) s .*?, ([\d.]+)% ok,.* p99 ([\d.]+) (ms|s)/.exec(line);
  if (!m) throw new Error(`unreadable load summary: ${line}`);
  return { requests: Number(m[1]), seconds: Number(m[2]), ok: Number(m[3]) / 100, p99Ms: Number(m[4]) * (m[5] === 's' ? 1000 : 1) };
}

test.serial('a paused web server under paced load: the load covers the hold, the pause shows as held requests, revert leaves nothing', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const r = await runCli(['fault', 'inject', 'container-pause', '--target', 'all:server=web1', '--for', '4s', '--under-load', '--rate', '50'], {
      timeoutMs: 120_000,
    });
    t.is(r.code, 0, r.stderr);
    const s = summary(r.stdout);
    // The load ran from before the inject until after the revert: at least the 4 s hold, at its rate.
    t.true(s.seconds >= 4, `load ran ${s.seconds} s`);
    t.true(Math.abs(s.requests - 50 * s.seconds) <= 0.1 * 50 * s.seconds + 10, `${s.requests} requests in ${s.seconds} s at 50 req/s`);
    // web1 answered nothing for 4 s: its share of the requests waited (or timed out). Without the pause, p99 is far below 1 s.
    t.true(s.p99Ms >= 1500, `p99 ${s.p99Ms} ms`);
    t.regex(`${r.stdout}${r.stderr}`, /reverted; the stack is as it was/);
    // Nothing left: no record, no helper, every container as it was.
    const left = await runCli(['revert', '--json']);
    t.is(left.code, 0, left.stderr);
    t.deepEqual((JSON.parse(left.stdout) as { reverted: unknown[] }).reverted, []);
    t.deepEqual(await helperContainers(stack), []);
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('a stop condition under load reverts the fault long before its hold ends and exits 6', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const started = Date.now();
    // Every web server paused: nothing is answered, and requests in flight for over 1 s make p99 over 2 s read above 1 s
    // before any of them times out (10 s).
    const r = await runCli(
      ['fault', 'inject', 'container-pause', '--target', 'all:role=web', '--for', '60s', '--under-load', '--rate', '50', '--stop-when', 'p99_ms>1000 over 2s'],
      { timeoutMs: 120_000 },
    );
    const tookMs = Date.now() - started;
    t.is(r.code, 6, `${r.stdout}\n${r.stderr}`);
    t.true(tookMs < 40_000, `took ${tookMs} ms of a 60 s hold`);
    t.log(
      `${r.stdout}${r.stderr}`
        .split('\n')
        .filter((l) => /stopped at|revert/.test(l))
        .join('\n'),
    );
    t.regex(`${r.stdout}${r.stderr}`, /stopped at t=/);
    const left = await runCli(['revert', '--json']);
    t.deepEqual((JSON.parse(left.stdout) as { reverted: unknown[] }).reverted, []);
    t.deepEqual(await snapshot(stack), before);
  });
});
