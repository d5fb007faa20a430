// `--stop-when` on `fault inject --under-load` (issue 18): the text reads into the shape an experiment's stop_when takes, bad
// text is refused in one line naming the flag (exit 2), and the flag without --under-load is refused before any stack is touched.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseStopWhen } from '../../src/cli/stop-when-flag.js';
import { collectParams } from '../../src/cli/commands/fault.js';
import { stopConditionSchema } from '../../src/experiment/stop-conditions.js';
import { FaultlineError } from '../../src/errors.js';

const run = promisify(execFile);

test('the examples read into the same condition the file form gives', (t) => {
  t.deepEqual(parseStopWhen('availability<0.5 over 5s'), stopConditionSchema.parse({ metric: 'availability', below: 0.5, over: '5s' }));
  t.deepEqual(parseStopWhen('p99_ms>2000 over 10s'), stopConditionSchema.parse({ metric: 'p99_ms', above: 2000, over: '10s' }));
  t.like(parseStopWhen('  error_ratio > .25   over 1500ms '), { kind: 'metric', metric: 'error_ratio', above: 0.25, over: 1500, min_requests: 1 });
  t.like(parseStopWhen('P90_MS>300 over 2m'), { metric: 'p90_ms', above: 300, over: 120_000 });
});

for (const [text, why] of [
  ['availability 0.5 over 5s', /is not a condition: expected/],
  ['availability<0.5', /is not a condition/],
  ['availability<0.5 for 5s', /is not a condition/],
  ['availability<=0.5 over 5s', /is not a condition/],
  ['latency<0.5 over 5s', /unknown metric latency \(one of availability, error_ratio/],
  ['availability<1.5 over 5s', /ratio: give a bound from 0 to 1/],
  ['availability<0.5 over soon', /over "soon" is not a duration/],
  ['availability<0.5 over 0s', /over 0s is out of range/],
  ['', /is not a condition/],
] as const) {
  test(`bad text is refused naming --stop-when: ${JSON.stringify(text)}`, (t) => {
    const err = t.throws(() => parseStopWhen(text), { instanceOf: FaultlineError });
    t.is(err?.code, 'INVALID_INPUT');
    t.true(err!.message.startsWith('--stop-when: '), err?.message);
    t.regex(err!.message, why);
    t.false(err!.message.includes('\n'));
  });
}

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['--import=tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, FAULTLINE_STACK: '' } });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

test('fault inject: --stop-when without --under-load, bad --stop-when text, a window longer than the hold: one line each, exit 2', async (t) => {
  const alone = await cli(['fault', 'inject', 'db-primary-kill', '--for', '10s', '--stop-when', 'availability<0.5 over 5s']);
  t.is(alone.code, 2);
  t.is(alone.stderr, 'faultline: --stop-when: needs --under-load: stop conditions are checked on the load beside the fault\n');
  const bad = await cli(['fault', 'inject', 'db-primary-kill', '--under-load', '--stop-when', 'availability<half over 5s']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^faultline: --stop-when: "availability<half over 5s" is not a condition: expected .*\n$/);
  const long = await cli(['fault', 'inject', 'db-primary-kill', '--for', '10s', '--under-load', '--stop-when', 'p99_ms>2000 over 20s']);
  t.is(long.code, 2);
  t.regex(long.stderr, /^faultline: --stop-when: "p99_ms>2000 over 20s": the window must fit inside the load \(duration 10 s\).*\n$/);
  const rate = await cli(['fault', 'inject', 'db-primary-kill', '--rate', '100']);
  t.is(rate.code, 2);
  t.is(rate.stderr, 'faultline: --rate: needs --under-load (the load beside the fault)\n');
  // `--load 80` is cpu-stress's shorthand for --param load=80: it is not the load beside the fault.
  const percent = await cli(['fault', 'inject', 'cpu-stress', '--load', '80', '--stop-when', 'availability<0.5 over 5s']);
  t.is(percent.code, 2);
  t.regex(percent.stderr, /^faultline: --stop-when: needs --under-load/);
});

test('--under-load is no fault parameter; --load N still is (cpu-stress)', (t) => {
  t.deepEqual(collectParams({ param: [], underLoad: true }), {});
  t.deepEqual(collectParams({ param: [], load: '80' }), { load: '80' });
});
