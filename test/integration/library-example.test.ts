// The README's "Use it from TypeScript" example, run as written (only its import line differs: the README imports from
// 'faultline', this file from the source). test/unit/library-entry.test.ts checks the two stay the same, so the README
// can never show code that does not run. It works on the shared reference stack (project faultline).
import test from 'ava';
import { ReferenceStack, createFaultContext, defaultRegistry, formatResultLine, injectUnderLoad, stopConditionSchema } from '../../src/index.js';

// README example: begin
test('the site stays up while one web server is frozen', async (t) => {
  // Starts the reference stack, or attaches to it when it already runs.
  const stack = await new ReferenceStack().up({ timeoutMs: 240_000 });
  const ctx = createFaultContext(stack);
  const pause = defaultRegistry().configure('container-pause', { target: 'service=web1-nginx' });

  // 50 req/s at the stack's HTTPS endpoint; the fault goes in once the load runs, is held 3 s and reverted on every path.
  const outcome = await injectUnderLoad(ctx, pause, {
    load: { url: stack.httpsUrl, rate: 50, ...stack.tlsOptions(await stack.ca()) },
    holdMs: 3_000,
    stopWhen: [stopConditionSchema.parse({ metric: 'availability', below: 0.5, over: '1s' })],
    signal: AbortSignal.timeout(120_000),
  });

  t.log(formatResultLine(outcome.load));
  t.is(outcome.stop, undefined, 'no stop condition fired');
  t.true(outcome.fault.reverted);
  t.deepEqual(await ctx.store.list(), [], 'nothing left recorded');
  t.true(outcome.load.summary.availability! >= 0.95, `availability ${outcome.load.summary.availability}`);
});
// README example: end
