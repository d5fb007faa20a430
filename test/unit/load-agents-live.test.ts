// Load agents, live (pure parts): messages read from a stream cut anywhere, once each; the live merge holds a second only
// once every agent's share of it arrived (or the agent is dead), and what it holds is bucket for bucket what the exact
// end-of-run merge gives (counts, and histograms merged, never percentiles averaged); the tick of a merged second.
import test from 'ava';
import { AGENT_LOST, frameMessage, mergeAgents, type AgentMessage, type AgentReport } from '../../src/load/agents.js';
import { LiveMerge, MessageStream } from '../../src/load/agents-live.js';
import { loadResultToJSON, Timeline, validateLoadOptions, WriteLedger } from '../../src/load/index.js';
import type { LoadOptionsInput, LoadResult } from '../../src/load/index.js';
import { toSettings } from '../../src/load/options.js';
import { agentsTick } from '../../src/swarm/agents-job.js';

const START = Date.UTC(2026, 0, 1);
const RUN = 'flagentslive';

function timelineOf(seconds: number, perBucket: number, seed: number): Timeline {
  const tl = new Timeline({ bucketMs: 100, startedAt: START, uncorrected: true });
  for (let b = 0; b < seconds * 10; b++)
    for (let i = 0; i < perBucket; i++) {
      const us = 200 + ((seed * 7919 + b * 104729 + i * 1299709) % 50_000);
      tl.recordSent(b * 100 + i);
      if (i % 13 === 5) tl.recordError(b * 100 + i, 'ECONNRESET');
      else tl.recordResponse(b * 100 + i, i % 17 === 0 ? 503 : 200, us, us / 2);
    }
  tl.seal();
  return tl;
}

function resultOf(input: LoadOptionsInput, slot: number, timeline: Timeline): LoadResult {
  const options = validateLoadOptions({ ...input, keySpace: `a${slot}n`, runId: RUN, allowRemoteTarget: true });
  const durationMs = timeline.length * 100;
  return {
    runId: RUN,
    driver: options.driver,
    options: toSettings(options),
    startedAt: new Date(START).toISOString(),
    durationMs,
    stopReason: 'completed',
    timeline,
    ledger: new WriteLedger(RUN, START, `a${slot}n`),
    summary: timeline.summary(durationMs),
    dropped: 0,
    faults: [],
    schedule: null,
  };
}

const checkpoint = (slot: number, tl: Timeline, from: number, to: number): AgentMessage => ({
  type: 'checkpoint',
  slot,
  from,
  buckets: tl.toJSON().buckets.slice(from, to),
  writes: [],
});

/** Every bucket of `a` and `b` alike: counts, statuses, error codes and the latency histograms' percentiles. */
function sameBuckets(t: import('ava').ExecutionContext, a: Timeline, b: Timeline, upTo: number): void {
  for (let i = 0; i < upTo; i++) {
    const [x, y] = [a.bucket(i), b.bucket(i)];
    t.deepEqual(x, y, `bucket ${i}`);
    t.deepEqual(a.latencyAt(i), b.latencyAt(i), `latency of bucket ${i}`);
  }
  const [ha, hb] = [a.mergedHistogram(0, upTo), b.mergedHistogram(0, upTo)];
  t.is(ha.totalCount, hb.totalCount);
  t.is(ha.getValueAtPercentile(99), hb.getValueAtPercentile(99));
}

test('framed messages read from a stream cut anywhere arrive whole, once each, among other output', (t) => {
  const big: AgentMessage = checkpoint(2, timelineOf(3, 40, 9), 0, 30);
  const lines = [...frameMessage({ type: 'ready', slot: 1, host: 'h1' }, 1), 'some other output', ...frameMessage(big, 2)];
  t.true(lines.length > 2, 'the checkpoint takes more than one line');
  const text = `${lines.join('\n')}\n`;
  const stream = new MessageStream();
  const got: AgentMessage[] = [];
  for (let i = 0; i < text.length; i += 777) got.push(...stream.push(text.slice(i, i + 777)));
  got.push(...stream.end());
  t.deepEqual(
    got.map((m) => `${m.type}/${m.slot}`),
    ['ready/1', 'checkpoint/2'],
  );
  t.deepEqual(got[1], big);
  // A follow started again from the beginning of the log: nothing twice.
  t.deepEqual(stream.push(text), []);
});

test('a merged second exists only once every agent shipped it, and equals the exact end-of-run merge', (t) => {
  const input = { url: 'http://web/', rate: 200, durationMs: 3000, runId: RUN };
  const options = validateLoadOptions({ ...input, allowRemoteTarget: true });
  const [a, b] = [timelineOf(3, 10, 1), timelineOf(3, 10, 2)];
  const live = new LiveMerge(options, 2, START);
  const handle = live.timeline;
  t.false(live.add(checkpoint(1, a, 0, 12)), 'agent 2 has shipped nothing yet');
  t.is(live.finalMs, 0);
  t.true(live.add(checkpoint(2, b, 0, 7)));
  t.is(live.finalMs, 700);
  t.is(handle.length, 7, 'the handle readers hold sees the merge grow');
  t.false(live.add(checkpoint(2, b, 9, 12)), 'a gap is not taken');
  t.true(live.add(checkpoint(2, b, 7, 15)));
  t.is(live.finalMs, 1200);
  live.add({ type: 'result', slot: 1, result: loadResultToJSON(resultOf(input, 1, a)) });
  t.is(live.finalMs, 1500, 'a finished agent holds nothing up');
  t.false(live.over);
  live.add({ type: 'result', slot: 2, result: loadResultToJSON(resultOf(input, 2, b)) });
  t.true(live.over);
  const exact = mergeAgents(options, { agents: 2, startAtMs: START }, [
    { slot: 1, node: 'n1', messages: [{ type: 'result', slot: 1, result: loadResultToJSON(resultOf(input, 1, a)) }], failure: null },
    { slot: 2, node: 'n2', messages: [{ type: 'result', slot: 2, result: loadResultToJSON(resultOf(input, 2, b)) }], failure: null },
  ]);
  t.is(handle.length, 30);
  sameBuckets(t, handle, exact.result.timeline, 30);
  t.deepEqual(handle.window(0, 3000).errorCodes, exact.result.summary.errorCodes);
});

test('a dead agent no longer holds the others up; its share from its last shipped bucket fails as in the end-of-run merge', (t) => {
  const input = { url: 'http://web/', rate: 200, durationMs: 3000, runId: RUN };
  const options = validateLoadOptions({ ...input, allowRemoteTarget: true });
  const [a, b] = [timelineOf(3, 10, 1), timelineOf(1, 10, 2)];
  const live = new LiveMerge(options, 2, START);
  live.add(checkpoint(1, a, 0, 20));
  live.add(checkpoint(2, b, 0, 10));
  t.is(live.finalMs, 1000);
  t.true(live.markDead(2));
  t.is(live.finalMs, 2000, 'agent 1 alone bounds the merge now');
  live.add({ type: 'result', slot: 1, result: loadResultToJSON(resultOf(input, 1, a)) });
  const reports: AgentReport[] = [
    { slot: 1, node: 'n1', messages: [{ type: 'result', slot: 1, result: loadResultToJSON(resultOf(input, 1, a)) }], failure: null },
    { slot: 2, node: 'n2', messages: [checkpoint(2, b, 0, 10)], failure: 'task failed, exit 137 on n2' },
  ];
  const exact = mergeAgents(options, { agents: 2, startAtMs: START }, reports);
  t.is(live.timeline.window(0, 3000).errorCodes[AGENT_LOST], 200);
  sameBuckets(t, live.timeline, exact.result.timeline, 30);
});

test('the tick of a merged second says what one process says of it, faults included, at a time the merge vouches for', (t) => {
  const input = { url: 'http://web/', rate: 200, durationMs: 3000, runId: RUN };
  const options = validateLoadOptions({ ...input, allowRemoteTarget: true });
  const [a, b] = [timelineOf(3, 10, 1), timelineOf(3, 10, 2)];
  const live = new LiveMerge(options, 2, START);
  live.add(checkpoint(1, a, 0, 20));
  live.add(checkpoint(2, b, 0, 20));
  const tick = agentsTick(live, 2, [{ name: 'node-partition', startMs: 1500, endMs: null }], 9000);
  const w = Timeline.merge([a, b]).window(1000, 2000);
  t.like(tick, { second: 2, sent: w.sent, successes: w.successes, errors: w.errors, failedResponses: w.responses - w.successes, waitingUntilMs: null });
  t.is(tick.p99Ms, w.latency.p99);
  t.deepEqual(tick.faults, ['node-partition']);
  t.is(tick.elapsedMs, 3000, 'not past the merged 2 s + the agents’ finality slack');
  t.deepEqual(agentsTick(live, 1, [{ name: 'x', startMs: 1500, endMs: null }], 9000).faults, []);
});

test('an agent ships a range of buckets as the whole timeline’s JSON holds them', (t) => {
  const tl = timelineOf(2, 10, 3);
  t.deepEqual(tl.toJSONRange(3, 7).buckets, tl.toJSON().buckets.slice(3, 7));
  t.deepEqual(tl.toJSONRange(18, 30).buckets, tl.toJSON().buckets.slice(18));
});
