// An experiment's `load:` block and the bounds every duration of an experiment file keeps, validated once: what the
// load engine would refuse mid-run (after faults were injected) is refused here, naming the field.

import { z } from 'zod';
import { durationField } from '../util/zod.js';
import { MAX_HOLD_MS } from '../util/duration.js';
import { workloadRequests, workloadSpecSchema, type WorkloadSpec } from '../load/workload-spec.js';
import { readMix } from '../load/mix.js';
import type { MixEntry } from '../load/types.js';

/**
 * Every duration of a file is bounded here, by what the run can honour: nothing over a day (Node's timers clamp
 * waits past 24.8 days to 1 ms, so an unbounded hold would end at once), probe intervals from 10 ms, buckets from
 * 1 ms to a minute, request deadlines up to 10 minutes. A value the run would refuse is refused by validate.
 */
const DAY_MS = MAX_HOLD_MS;
export const duration = durationField({ max: DAY_MS });
export const interval = durationField({ min: 10, max: DAY_MS });
const loadDuration = durationField({ min: 1, max: DAY_MS });
const bucket = durationField({ min: 1, max: 60_000 });
const deadline = durationField({ min: 1, max: 600_000 });
/** The load engine's bound on buckets per run (src/load/options.ts). */
const MAX_BUCKETS = 1_000_000;

/**
 * An experiment's mix, read as --mix is read (one grammar). With the workload inline its names are checked now;
 * against a stack's workload they are checked when load starts.
 */
function mixOf(l: { mix?: string | undefined; workload?: WorkloadSpec | undefined }): MixEntry[] | string {
  return readMix(l.mix ?? '', l.workload ? Object.keys(workloadRequests(l.workload)) : null);
}

export const loadSchema = z
  .object({
    driver: z.enum(['paced', 'closed']).default('paced'),
    rate: z
      .union([z.number().positive(), z.object({ from: z.number().nonnegative(), to: z.number().positive() }).strict()], {
        errorMap: () => ({ message: 'expected requests per second (a positive number), or { from, to } for a ramp' }),
      })
      .optional(),
    connections: z.number().int().positive().max(10_000).optional(),
    /** Request names of the workload with weights, as --mix takes them; default the workload's own mix (unless a path is given). */
    mix: z.string().optional(),
    /** The requests a mix names; default the stack description's workload, else the reference app's. */
    workload: workloadSpecSchema.optional(),
    /** Without a mix: GET this path (default /whoami on the reference stack, the endpoint's ready_path on others). */
    path: z.string().startsWith('/').optional(),
    duration: loadDuration,
    warmup: duration.default('3s'),
    /**
     * End the load this long after the method's last fault was reverted, rather than at `duration` (then the most it
     * runs): a fault injected several times on a stack that recovers slowly gets its room, one that recovers fast
     * does not wait for it.
     */
    end_after_faults: duration.optional(),
    bucket: bucket.default('100ms'),
    max_in_flight: z.number().int().positive().optional(),
    timeout: deadline.optional(),
    insecure: z.boolean().default(false),
    /** Send from this many load agents on the swarm, each with its share of the rate or connections; needs `network` and `url`. */
    agents: z.number().int().min(1).max(64).optional(),
    /** With agents: the swarm network the target is on; the agents join it. */
    network: z.string().min(1).optional(),
    /** With agents: the target as the agents reach it on that network (a service of the stack, or loopback). */
    url: z.string().url().optional(),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.driver === 'paced' && l.rate === undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rate'], message: 'the paced driver needs a rate (requests per second)' });
    if (l.driver === 'closed' && l.rate !== undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rate'], message: 'the closed driver takes connections, not a rate' });
    if (l.warmup >= l.duration) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['warmup'], message: 'must be shorter than the duration' });
    if (l.duration / l.bucket > MAX_BUCKETS)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['bucket'],
        message: `${l.bucket} ms buckets over ${l.duration} ms would be more than ${MAX_BUCKETS} buckets`,
      });
    if (l.agents !== undefined && (l.network === undefined || l.url === undefined))
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['agents'], message: 'agents need a network (the swarm network the target is on) and a url on it' });
    if (l.agents === undefined && (l.network !== undefined || l.url !== undefined))
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [l.network !== undefined ? 'network' : 'url'], message: 'only with agents' });
    if (l.mix && l.path)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['path'], message: "give a mix or a path, not both: a mix's requests carry their own paths" });
    const mix = l.mix === undefined ? [] : mixOf(l);
    if (typeof mix === 'string') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['mix'], message: mix });
  })
  // Once valid, the mix goes on parsed: the runner and the load engine see entries, never the text.
  .transform((l) => ({ ...l, mix: l.mix === undefined ? undefined : (mixOf(l) as MixEntry[]) }));
