// Load agents, the pure part: each agent's share, the spec word, the log framing, the exact merge (the same as the
// threads' merge of the same data), a dead agent's share counted as failed, and the target rule.
import test from 'ava';
import {
  AGENT_LOST,
  agentShare,
  CHUNK_CHARS,
  decodeSpec,
  encodeSpec,
  frameMessage,
  mergeAgents,
  readMessages,
  type AgentMessage,
  type AgentReport,
} from '../../src/load/agents.js';
import { loadResultToJSON, Timeline, validateLoadOptions, WriteLedger } from '../../src/load/index.js';
import type { LoadResult, LoadOptionsInput } from '../../src/load/index.js';
import { toSettings } from '../../src/load/options.js';
import { agentTargetRefusal } from '../../src/swarm/agents.js';

const START = Date.UTC(2026, 0, 1);
const RUN = 'flagentsrun';

/** A timeline of `seconds` at `perBucket` answered requests per 100 ms bucket, latencies from `seed`. */
function timelineOf(seconds: number, perBucket: number, seed: number): Timeline {
  const tl = new Timeline({ bucketMs: 100, startedAt: START, uncorrected: true });
  for (let b = 0; b < seconds * 10; b++)
    for (let i = 0; i < perBucket; i++) {
      const us = 200 + ((seed * 7919 + b * 104729 + i * 1299709) % 50_000);
      tl.recordSent(b * 100 + i);
      tl.recordResponse(b * 100 + i, i % 17 === 0 ? 503 : 200, us, us / 2);
    }
  tl.seal();
  return tl;
}

function resultOf(input: LoadOptionsInput, slot: number, timeline: Timeline, writes = 0): LoadResult {
  const options = validateLoadOptions({ ...input, keySpace: `a${slot}n`, runId: RUN, allowRemoteTarget: true });
  const ledger = new WriteLedger(RUN, START, `a${slot}n`);
  for (let i = 0; i < writes; i++)
    ledger.complete(ledger.begin(ledger.nextKey(), i * 10), i * 10 + 5, { status: 201, body: `{"id":${slot * 1000 + i}}`, sent: true });
  const durationMs = timeline.length * 100;
  return {
    runId: RUN,
    driver: options.driver,
    options: toSettings(options),
    startedAt: new Date(START).toISOString(),
    durationMs,
    stopReason: 'completed',
    timeline,
    ledger,
    summary: timeline.summary(durationMs),
    dropped: 0,
    faults: [],
    schedule: null,
  };
}

const done = (slot: number, r: LoadResult): AgentReport => ({
  slot,
  node: `n${slot}`,
  messages: [{ type: 'result', slot, result: loadResultToJSON(r) }],
  failure: null,
});

test('each agent gets its share: 1/n of the rate, its part of the connections, a key space of its own', (t) => {
  t.is(agentShare({ url: 'http://a/', rate: 300 }, 3, 2).rate, 100);
  t.deepEqual(agentShare({ url: 'http://a/', rate: { from: 10, to: 40 } }, 2, 1).rate, { from: 5, to: 20 });
  t.deepEqual(
    [1, 2, 3].map((s) => agentShare({ url: 'http://a/', connections: 10 }, 3, s).connections),
    [4, 3, 3],
  );
  t.deepEqual(
    [1, 2].map((s) => agentShare({ url: 'http://a/', rate: 10, requests: 7 }, 2, s).requests),
    [4, 3],
  );
  const share = agentShare({ url: 'http://a/', rate: 10, runId: RUN }, 2, 2);
  t.is(share.keySpace, 'a2n');
  t.is(share.runId, RUN);
  t.throws(() => agentShare({ url: 'http://a/', rate: 10 }, 2, 3), { message: /slot/ });
});

test('the ledgers of one run read together: one key prefix, a key space per agent', (t) => {
  const l = new WriteLedger(RUN, START, 'a2n');
  t.is(l.nextKey(), `${RUN}-a2n1`);
  t.true(l.nextKey().startsWith(l.keyPrefix));
  t.is(new WriteLedger(RUN, START).nextKey(), `${RUN}-1`);
  t.throws(() => validateLoadOptions({ url: 'http://127.0.0.1/', keySpace: 'a-1' }), { message: /keySpace/ });
});

test('the spec travels as one base64 word and is checked when read', (t) => {
  const spec = {
    version: 1 as const,
    agents: 3,
    startAtMs: START,
    checkpointMs: 2000,
    input: { url: 'http://web/', rate: 30, ca: '-----BEGIN CERTIFICATE-----\nx\n' },
  };
  const word = encodeSpec(spec);
  t.regex(word, /^[A-Za-z0-9_-]+$/);
  t.deepEqual(decodeSpec(word), spec);
  t.throws(() => decodeSpec('%%%'), { code: 'INVALID_INPUT' } as never);
  t.throws(() => decodeSpec(encodeSpec({ ...spec, agents: 0 })), { message: /agents/ });
});

test('messages cross the log in lines under Docker’s split, among other output, and a cut message is left out', (t) => {
  const big: AgentMessage = { type: 'result', slot: 2, result: loadResultToJSON(resultOf({ url: 'http://a/', rate: 10 }, 2, timelineOf(20, 30, 2))) };
  const lines = frameMessage(big, 7);
  t.true(lines.length > 1);
  t.true(lines.every((l) => l.length < CHUNK_CHARS + 40));
  const ready = frameMessage({ type: 'ready', slot: 1, host: 'h1' }, 1);
  const cut = frameMessage(big, 8)
    .slice(0, -1)
    .map((l) => l.replace(' 2 8 ', ' 3 8 '));
  const text = ['noise', ...ready, lines[0], 'node warning', ...lines.slice(1), ...cut].join('\n');
  const got = readMessages(text);
  t.deepEqual(got.get(1), [{ type: 'ready', slot: 1, host: 'h1' }]);
  t.deepEqual(got.get(2), [JSON.parse(JSON.stringify(big))]);
  t.is(got.get(3), undefined);
});

test('two agents merge exactly as two threads of the same data do: counts bucket by bucket, histograms merged', (t) => {
  const input = { url: 'http://web/', rate: 200, durationMs: 3000, runId: RUN };
  const a = timelineOf(3, 10, 1);
  const b = timelineOf(3, 10, 2);
  const merged = mergeAgents(validateLoadOptions({ ...input, allowRemoteTarget: true }), { agents: 2, startAtMs: START }, [
    done(1, resultOf(input, 1, a, 3)),
    done(2, resultOf(input, 2, b, 2)),
  ]);
  const threads = Timeline.merge([timelineOf(3, 10, 1), timelineOf(3, 10, 2)]);
  t.deepEqual(merged.result.timeline.toJSON(), threads.toJSON());
  t.deepEqual(merged.result.summary, threads.summary(3000));
  t.is(merged.result.summary.intended, 600);
  t.deepEqual(
    merged.agents.map((x) => x.state),
    ['completed', 'completed'],
  );
  // One ledger for the data-loss check: every agent's writes under the run's prefix.
  t.is(merged.result.ledger.size, 5);
  t.true(merged.result.ledger.attemptedKeys().every((k) => k.startsWith(`${RUN}-a`)));
  t.is(merged.ledgers.length, 2);
});

test('a dead agent is named, its shipped buckets merged and its share from there on counted as failed', (t) => {
  const input = { url: 'http://web/', rate: 200, durationMs: 3000, runId: RUN };
  const options = validateLoadOptions({ ...input, allowRemoteTarget: true });
  const alive = resultOf(input, 1, timelineOf(3, 10, 1));
  const shipped = timelineOf(1, 10, 2).toJSON();
  const dead: AgentReport = {
    slot: 2,
    node: 'n2',
    messages: [
      { type: 'ready', slot: 2, host: 'h2' },
      { type: 'checkpoint', slot: 2, from: 0, buckets: shipped.buckets, writes: [] },
    ],
    failure: 'task failed, exit 137 on n2',
  };
  const r = mergeAgents(options, { agents: 2, startAtMs: START }, [done(1, alive), dead]);
  const a2 = r.agents[1]!;
  t.is(a2.state, 'died');
  t.is(a2.reason, 'task failed, exit 137 on n2');
  t.is(a2.lostFromMs, 1000);
  t.is(a2.lostRequests, 200); // 100 req/s for the 2 s after its last shipped bucket
  t.is(r.result.summary.intended, 300 + 100 + 200);
  t.is(r.result.summary.errorCodes[AGENT_LOST], 200);
  t.is(r.result.timeline.bucket(15)?.errorCodes[AGENT_LOST], 10);
  t.is(r.result.timeline.bucket(5)?.errorCodes[AGENT_LOST], undefined);

  // Nothing shipped at all: the whole share failed.
  const none = mergeAgents(options, { agents: 2, startAtMs: START }, [done(1, alive)]);
  t.is(none.agents[1]!.reason, 'never started');
  t.is(none.agents[1]!.lostFromMs, 0);
  t.is(none.result.summary.errorCodes[AGENT_LOST], 300);
  t.is(none.result.summary.intended, 600);
});

test('a dead closed-model agent fails at its peers’ pace per connection', (t) => {
  const input = { url: 'http://web/', connections: 4, durationMs: 2000, runId: RUN };
  const options = validateLoadOptions({ ...input, allowRemoteTarget: true });
  const r = mergeAgents(options, { agents: 2, startAtMs: START }, [done(1, resultOf(input, 1, timelineOf(2, 10, 1)))]);
  t.is(r.agents[1]!.lostRequests, 200);
});

test('agents send only to loopback or to a name on the network they join', (t) => {
  const names = ['web', 'tasks.web', 'fl-agents-target'];
  t.is(agentTargetRefusal('http://fl-agents-target/', 'net', names), null);
  t.is(agentTargetRefusal('http://127.0.0.1:8080/', 'net', names), null);
  t.is(agentTargetRefusal('http://WEB:80/x', 'net', names), null);
  t.regex(agentTargetRefusal('http://example.com/', 'net', names) ?? '', /example\.com is neither a service on network net nor loopback/);
  t.regex(agentTargetRefusal('http://10.0.0.7/', 'net', names) ?? '', /neither/);
  t.regex(agentTargetRefusal('nope', 'net', names) ?? '', /not a valid URL/);
});

test('an experiment’s load takes agents with the network and the url the agents reach the target at', async (t) => {
  const { loadSchema } = await import('../../src/experiment/load-schema.js');
  const ok = loadSchema.safeParse({ rate: 30, duration: 10_000, agents: 3, network: 'shop_front', url: 'http://web/' });
  t.true(ok.success);
  t.is(ok.success && ok.data.agents, 3);
  const bare = loadSchema.safeParse({ rate: 30, duration: 10_000, agents: 3 });
  t.regex(bare.success ? '' : bare.error.issues[0]!.message, /need a network/);
  const stray = loadSchema.safeParse({ rate: 30, duration: 10_000, network: 'n' });
  t.regex(stray.success ? '' : stray.error.issues[0]!.message, /only with agents/);
});
