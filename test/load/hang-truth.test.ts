// A total hang, judged against the schedule: a server (a process of its own) answers nothing for requests ARRIVING
// in a window of its clock, and the truth is the share of requests INTENDED in that window, computed from the
// arrival schedule. The server's own log is not the truth: a driver that queues requests behind hung sockets delivers
// them after the window and the server answers them, so its log agrees with that driver. An open model puts each
// request on the wire at its intended time or reports it late; either way the reported error ratio is the truth.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { runLoad, startLoad } from '../../src/load/index.js';
import { RateSchedule } from '../../src/load/schedule.js';
import { startHangServer } from './_support.js';

/** Load before and after the hang: short runs, long enough for the edges to be clean. */
const EDGE_MS = 1500;
/**
 * Short deadlines keep what is in flight at rate × timeout (4 000 sockets at 2 000 req/s) rather than rate × hang (24 000
 * for 12 s, more than this process's file descriptors); the in-flight bound holds that with room, so nothing is dropped.
 */
const TIMEOUT_MS = 2000;

/** Share of the schedule's requests whose intended time lies in [fromMs, toMs). */
function intendedShare(rate: number, durationMs: number, fromMs: number, toMs: number): { share: number; total: number; inside: number } {
  const schedule = new RateSchedule([{ durationMs, from: rate, to: rate }]);
  let inside = 0;
  for (let i = 0; i < schedule.total; i++) {
    const t = schedule.timeOf(i);
    if (t >= fromMs && t < toMs) inside += 1;
  }
  return { share: inside / schedule.total, total: schedule.total, inside };
}

async function hangTruth(t: ExecutionContext, rate: number, hangMs: number): Promise<void> {
  const server = await startHangServer();
  t.teardown(() => server.close());
  const durationMs = EDGE_MS + hangMs + EDGE_MS;
  const maxInFlight = Math.ceil((rate * TIMEOUT_MS * 1.5) / 1000) + 500;
  // A short run first, so loading and compiling the client (undici's parser) is not part of the measured one.
  await runLoad({ url: server.url, rate, durationMs: 300, maxInFlight });
  const warmUp = (await server.log()).answered;
  // t = 0 a moment ahead, on the clock the server shares, so the window is set before the first request leaves.
  const originMs = performance.timeOrigin + performance.now() + 300;
  server.hangBetween(originMs + EDGE_MS, originMs + EDGE_MS + hangMs);
  const r = await startLoad({ url: server.url, rate, durationMs, timeoutMs: TIMEOUT_MS, maxInFlight }, { originMs }).result;
  const log = await server.log();
  log.answered -= warmUp;
  const s = r.summary;
  const truth = intendedShare(rate, durationMs, EDGE_MS, EDGE_MS + hangMs);
  const inside = r.timeline.window(EDGE_MS, EDGE_MS + hangMs);
  const outside = r.timeline.window(0, EDGE_MS);
  const after = r.timeline.window(EDGE_MS + hangMs, durationMs);
  const lateOutside = outside.late + after.late;
  const failedOnTimeOutside =
    outside.errors - outside.late + after.errors - after.late + (outside.responses - outside.successes) + (after.responses - after.successes);
  const reported = s.errorRatio ?? 0;
  t.log(
    `${rate} req/s, ${hangMs / 1000} s hang: error ratio ${reported.toFixed(4)} vs intended share ${truth.share.toFixed(4)} ` +
      `(${truth.inside} of ${truth.total}): ${((reported - truth.share) * 100).toFixed(2)} pp; ok ${s.successes}, timed out ${s.timedOut}, ` +
      `late ${s.late} (${lateOutside} outside the hang), dropped ${s.dropped}; server answered ${log.answered}, held ${log.held}; ` +
      `wire lag in the hang p50 ${inside.wireLag.p50} p99 ${inside.wireLag.p99} max ${inside.wireLag.max} ms; send lag max ${r.schedule?.lag.max} ms`,
  );
  t.is(s.intended, truth.total);
  t.is(s.intended, s.sent + s.dropped);
  t.is(s.sent, s.responses + s.errors, 'every request has one outcome');
  t.is(s.errorCodes.LATE ?? 0, s.late, 'late requests are counted as failures, under their own code');
  t.is(s.errorRatio, (s.intended - s.successes) / s.intended);
  // What the server answered to requests that left on time was counted as a success. It may have answered more: a
  // request that left late (its outcome is late whatever the answer), or one a starved client read only after its
  // deadline (timed out, though the server held none of those).
  const extra = log.answered - s.successes;
  t.true(extra >= 0 && extra <= s.late + Math.max(0, s.timedOut - log.held), `server answered ${log.answered}, ${s.successes} ok`);
  // The defect this guards against (requests queued behind hung sockets, delivered after the hang and answered)
  // reports too LOW a ratio: that side holds at 2 pp whatever the machine does.
  t.true(reported >= truth.share - 0.02, `error ratio ${reported} vs intended share ${truth.share}: requests were moved out of the hang`);
  // A starved machine (other jobs on its 2 cores) can keep requests off the wire past the bound outside the hang too:
  // they are late, failures by design, and the report counts them; only they may widen the upper side.
  t.true(reported <= truth.share + 0.02 + lateOutside / s.intended, `error ratio ${reported} vs intended share ${truth.share}, ${lateOutside} late outside`);
  // What requests intended in the hang met, and outside it: only those near an edge may cross it (they left within
  // the bound; a starved server also reads them late on its own clock), within the tolerance of the ratio.
  const edge = Math.ceil(0.02 * s.intended);
  t.true(inside.successes <= edge, `${inside.successes} requests intended in the hang succeeded (edge ${edge})`);
  t.true(failedOnTimeOutside <= edge, `${failedOnTimeOutside} requests intended outside the hang failed on time (edge ${edge})`);
}

test.serial('hang of 4 s at 300 req/s: the error ratio is the share of requests intended in the hang ± 2 pp', (t) => hangTruth(t, 300, 4000));
test.serial('hang of 12 s at 300 req/s: the error ratio is the share of requests intended in the hang ± 2 pp', (t) => hangTruth(t, 300, 12_000));
test.serial('hang of 4 s at 2000 req/s: the error ratio is the share of requests intended in the hang ± 2 pp', (t) => hangTruth(t, 2000, 4000));
test.serial('hang of 12 s at 2000 req/s: the error ratio is the share of requests intended in the hang ± 2 pp', (t) => hangTruth(t, 2000, 12_000));
