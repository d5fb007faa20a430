// Repetitions (`repeat: N`, `--repeat N`): which count wins, the order of a repeated suite, and a journal that keeps
// every repetition while reading as one run to anything that predates them.

import test from 'ava';
import { combineRepetitions, runsOf, type ExperimentJournal } from '../../src/experiment/journal.js';
import { repetitionsOf, runFile } from '../../src/experiment/suite.js';
import { experimentSchema, suiteSchema } from '../../src/experiment/schema.js';

function fakeRunner(status: (id: string, n: number) => ExperimentJournal['status'] = () => 'passed') {
  const ran: string[] = [];
  const count = new Map<string, number>();
  return {
    ran,
    runner: {
      run: async (exp: { id: string }) => {
        const n = (count.get(exp.id) ?? 0) + 1;
        count.set(exp.id, n);
        ran.push(`${exp.id}${n}`);
        const at = new Date(Date.UTC(2026, 0, 1, 0, ran.length)).toISOString();
        return {
          id: exp.id,
          title: exp.id,
          status: status(exp.id, n),
          reason: `run ${n}`,
          metrics: { write_outage_s: n },
          rollbacks: [],
          startedAt: at,
          endedAt: at,
          durationMs: 1000,
        } as unknown as ExperimentJournal;
      },
    },
  };
}

const suite = (repeat?: number, own: Array<number | undefined> = []) =>
  ({
    suite: ['a', 'b'],
    id: 's',
    title: 's',
    description: '',
    file: 's.yaml',
    continue_on_failure: true,
    ...(repeat ? { repeat } : {}),
    experiments: ['a', 'b'].map((id, i) => ({ id, title: id, ...(own[i] ? { repeat: own[i] } : {}) })),
  }) as never;

const options = (repeat?: number) => ({ signal: new AbortController().signal, ...(repeat ? { repeat } : {}) });

test('repeat: --repeat wins over the suite, the suite over the experiment, else once', (t) => {
  t.is(repetitionsOf({ repeat: 2 }, { repeat: 3 }, { repeat: 5 }), 5);
  t.is(repetitionsOf({ repeat: 2 }, { repeat: 3 }, {}), 3);
  t.is(repetitionsOf({ repeat: 2 }, null, {}), 2);
  t.is(repetitionsOf({}, null, {}), 1);
});

test('repeat: in experiment and suite files, a whole number from 1 to 50', (t) => {
  const exp = { title: 'x', load: { rate: 10, duration: '10s' }, method: [{ probe: 'health', at: '1s' }] };
  t.is(experimentSchema.parse({ ...exp, repeat: 3 }).repeat, 3);
  t.is(experimentSchema.parse(exp).repeat, undefined);
  for (const bad of [0, 1.5, 51, 'three']) t.false(experimentSchema.safeParse({ ...exp, repeat: bad }).success, String(bad));
  t.is(suiteSchema.parse({ title: 's', suite: ['a.yaml'], repeat: 4 }).repeat, 4);
});

test('a repeated suite runs round by round, and each experiment’s journal keeps its repetitions', async (t) => {
  const { ran, runner } = fakeRunner();
  const journal = await runFile(suite(3), {} as never, options(), runner as never);
  t.deepEqual(ran, ['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
  if (journal.kind !== 'suite') return t.fail();
  t.is(journal.experiments.length, 2);
  const a = journal.experiments[0]!;
  t.deepEqual(
    runsOf(a).map((r) => [r.repetition, r.metrics.write_outage_s]),
    [
      [1, 1],
      [2, 2],
      [3, 3],
    ],
  );
  // The top level reads as the first run to a reader that knows nothing of repetitions.
  t.is(a.metrics.write_outage_s, 1);
  t.is(a.status, 'passed');
  t.regex(a.reason, /^3 repetitions: 3 passed$/);
});

test('experiments repeat their own count inside a suite; --repeat wins over both', async (t) => {
  const own = fakeRunner();
  await runFile(suite(undefined, [2, undefined]), {} as never, options(), own.runner as never);
  t.deepEqual(own.ran, ['a1', 'b1', 'a2']);
  const flag = fakeRunner();
  await runFile(suite(3, [2]), {} as never, options(2), flag.runner as never);
  t.deepEqual(flag.ran, ['a1', 'b1', 'a2', 'b2']);
});

test('a lone experiment repeated: one journal, every repetition, status of them all', async (t) => {
  const { ran, runner } = fakeRunner((_, n) => (n === 2 ? 'failed' : 'passed'));
  const exp = { id: 'kill', title: 'kill', repeat: 3 } as never;
  const j = (await runFile(exp, {} as never, options(), runner as never)) as ExperimentJournal;
  t.deepEqual(ran, ['kill1', 'kill2', 'kill3']);
  t.is(j.repetitions?.length, 3);
  t.is(j.status, 'failed');
  t.regex(j.reason, /3 repetitions: 2 passed, 1 failed; repetition 2: run 2/);
  // One run: the journal as it always was, no repetitions field.
  const once = fakeRunner();
  const single = (await runFile({ id: 'kill', title: 'kill' } as never, {} as never, options(), once.runner as never)) as ExperimentJournal;
  t.is(single.repetitions, undefined);
  t.deepEqual(runsOf(single), [single]);
});

test('repetitions stop at an interruption or a damaged stack', async (t) => {
  const ran: string[] = [];
  const runner = {
    run: async (exp: { id: string }) => {
      ran.push(exp.id);
      return { id: exp.id, status: 'error', reason: '', rollbacks: [{ status: 'error' }], startedAt: '', endedAt: '', durationMs: 0 } as never;
    },
  };
  await runFile({ id: 'x', title: 'x', repeat: 4 } as never, {} as never, options(), runner as never);
  t.deepEqual(ran, ['x']);
});

test('combineRepetitions: an error wins over a failure, the end is the last one’s', (t) => {
  const base = { startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z', durationMs: 60_000, reason: 'r' };
  const j = combineRepetitions([
    { ...base, status: 'failed' } as ExperimentJournal,
    { ...base, status: 'error', startedAt: '2026-01-01T00:01:00.000Z', endedAt: '2026-01-01T00:02:30.000Z' } as ExperimentJournal,
  ]);
  t.is(j.status, 'error');
  t.is(j.endedAt, '2026-01-01T00:02:30.000Z');
  t.is(j.durationMs, 150_000);
});
