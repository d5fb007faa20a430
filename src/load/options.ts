// Validates and defaults load options at the edge, before any socket opens: every problem is one
// FaultlineError('INVALID_INPUT', '<field>: <what is wrong>'), and drivers only ever see LoadOptions.

import { isIP } from 'node:net';
import { invalidInput } from '../errors.js';
import { idValue, newRunId, RUN_ID_PATTERN } from './ledger.js';
import type { WriteId } from './ledger.js';
import { parseMix, validateMix } from './mix.js';
import { parseWorkload, workloadRequests } from './workload-spec.js';
import type { RequestSpec } from './workload-spec.js';
import { RateSchedule, rateStages } from './schedule.js';
import type { LoadOptions, LoadOptionsInput, LoadSettings } from './types.js';
import { assertTargetAllowed } from '../util/remote-target.js';

export const DEFAULTS = {
  durationMs: 30_000,
  /** With a request count and no duration, the run still stops by itself after this. */
  maxDurationWithRequestsMs: 600_000,
  closedConnections: 10,
  /**
   * Paced base pool: enough for ~10k req/s at sub-ms latency; queueing beyond it shows up as (corrected) latency.
   * Past hung connections the driver opens more, up to the in-flight bound (admission.ts).
   */
  pacedConnections: 64,
  bucketMs: 100,
  maxInFlight: 1000,
  maxInFlightCap: 10_000,
  timeoutMs: 10_000,
  /**
   * Paced: a request not on the wire within this of its intended time is late. One 100 ms bucket: far above what a
   * loopback or LAN connect and a busy event loop take, and small against any fault window a run measures, whose
   * ratio it can shift by at most bound / window at each edge (docs/load.md).
   */
  lateAfterMs: 250,
  idRange: { min: 1, max: 100 },
} as const;

const LIMITS = {
  maxDurationMs: 24 * 3_600_000,
  maxConnections: 10_000,
  maxPipelining: 1_000,
  maxWorkers: 64,
  maxBuckets: 1_000_000,
};

function positiveInt(field: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalidInput(field, `must be a whole number ≥ 1, got ${String(v)}`);
  if (v > max) throw invalidInput(field, `must be at most ${max}, got ${v}`);
  return v;
}

function msValue(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidInput(field, `must be a duration, got ${String(v)}`);
  if (v < min) throw invalidInput(field, `must be at least ${min} ms, got ${v} ms`);
  if (v > max) throw invalidInput(field, `must be at most ${max} ms, got ${v} ms`);
  return v;
}

function headerSafe(field: string, v: string): string {
  // Only visible ASCII: a host name with whitespace or control characters would split the request's headers.
  if (v.length === 0 || v.length > 255 || !/^[\x21-\x7e]+$/.test(v)) throw invalidInput(field, `not a valid host name: ${JSON.stringify(v)}`);
  return v;
}

/**
 * The mix and the requests it names: the caller's mix, else the workload's own; names checked against the workload's
 * requests (the reference preset's without one). Only the named requests are kept, so the result records what was sent.
 */
function resolveWorkload(input: LoadOptionsInput): { mix: LoadOptions['mix']; workload: LoadOptions['workload'] } {
  const spec = input.workload === undefined ? undefined : parseWorkload(input.workload);
  const requests = workloadRequests(spec);
  const names = Object.keys(requests);
  let mix: LoadOptions['mix'] = null;
  if (input.mix !== undefined) mix = typeof input.mix === 'string' ? parseMix(input.mix, 'mix', names) : validateMix(input.mix, 'mix', names);
  else if (spec?.mix !== undefined) mix = parseMix(spec.mix, 'workload.mix', names);
  if (mix === null) return { mix, workload: null };
  const used: Record<string, RequestSpec> = {};
  for (const e of mix) used[e.kind] = requests[e.kind] as RequestSpec;
  return { mix, workload: used };
}

function validSeedIds(ids: unknown): WriteId[] {
  if (ids === undefined) return [];
  if (!Array.isArray(ids) || ids.length > 100_000) throw invalidInput('seedIds', 'must be a list of at most 100000 ids');
  return ids.map((v) => {
    const id = idValue(v);
    if (id === null) throw invalidInput('seedIds', `${JSON.stringify(v)} is not an id (a positive whole number, or letters, digits and ._~:-)`);
    return id;
  });
}

/** Validates everything and fills defaults. Pure: reads no files and opens no sockets. */
export function validateLoadOptions(input: LoadOptionsInput): LoadOptions {
  if (typeof input !== 'object' || input === null) throw invalidInput('options', 'must be an object');

  // url
  if (typeof input.url !== 'string' || input.url.trim() === '') throw invalidInput('url', 'is required');
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw invalidInput('url', `not a valid URL: ${JSON.stringify(input.url)} (expected e.g. http://127.0.0.1:8080/)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidInput('url', `only http and https are supported, got ${url.protocol}`);
  if (url.hostname === '') throw invalidInput('url', `has no host: ${JSON.stringify(input.url)}`);
  if (url.username || url.password) throw invalidInput('url', 'must not carry credentials');
  const allowRemoteTarget = input.allowRemoteTarget === true;
  assertTargetAllowed(input.url, 'url', allowRemoteTarget);
  const secure = url.protocol === 'https:';

  // driver
  const paced = input.rate !== undefined;
  const driver = paced ? 'paced' : 'closed';
  if (paced && input.pipelining !== undefined && input.pipelining !== 1) {
    throw invalidInput('pipelining', 'only applies to the closed driver (--connections); the paced driver sends one request per connection at a time');
  }

  // counts and times
  const requests = input.requests === undefined ? null : positiveInt('requests', input.requests, 1_000_000_000);
  let durationMs: number;
  if (input.durationMs !== undefined) {
    durationMs = msValue('duration', input.durationMs, 1, LIMITS.maxDurationMs);
  } else if (requests !== null && paced && typeof input.rate === 'number' && input.rate > 0) {
    // A request count at a constant rate defines its own duration.
    durationMs = Math.ceil((requests / input.rate) * 1000);
  } else if (requests !== null) {
    durationMs = DEFAULTS.maxDurationWithRequestsMs;
  } else {
    durationMs = DEFAULTS.durationMs;
  }
  durationMs = msValue('duration', durationMs, 1, LIMITS.maxDurationMs);

  const stages = paced ? rateStages(input.rate as NonNullable<LoadOptionsInput['rate']>, durationMs) : [];
  if (paced) {
    const schedule = new RateSchedule(stages);
    if (Array.isArray(input.rate)) durationMs = schedule.durationMs;
    if (schedule.total < 1) throw invalidInput('rate', `schedules no request in ${durationMs} ms`);
  }

  const timeoutMs = input.timeoutMs === undefined ? DEFAULTS.timeoutMs : msValue('timeout', input.timeoutMs, 1, 600_000);
  // By default the bound holds a whole timeout's worth of requests at the peak rate, so a hang shorter than the timeout
  // never drops a request (dropping would hide the recovery behind the bound); within [1000, 10 000] sockets.
  const peakRate = paced ? Math.max(...stages.map((st) => Math.max(st.from, st.to))) : 0;
  const maxInFlight =
    input.maxInFlight !== undefined
      ? positiveInt('maxInFlight', input.maxInFlight, 1_000_000)
      : Math.min(DEFAULTS.maxInFlightCap, Math.max(DEFAULTS.maxInFlight, Math.ceil((peakRate * timeoutMs) / 1000)));
  if (!paced && input.lateAfterMs !== undefined) throw invalidInput('lateAfter', 'only applies to the paced driver (--rate)');
  const lateAfterMs = input.lateAfterMs === undefined ? DEFAULTS.lateAfterMs : msValue('lateAfter', input.lateAfterMs, 1, 600_000);
  const connections =
    input.connections === undefined
      ? paced
        ? DEFAULTS.pacedConnections
        : DEFAULTS.closedConnections
      : positiveInt('connections', input.connections, LIMITS.maxConnections);
  const pipelining = input.pipelining === undefined ? 1 : positiveInt('pipelining', input.pipelining, LIMITS.maxPipelining);
  const workers = input.workers === undefined ? 1 : positiveInt('workers', input.workers, LIMITS.maxWorkers);
  if (workers > 1 && paced) throw invalidInput('workers', 'only applies to the closed driver (--connections)');
  if (workers > connections) throw invalidInput('workers', `${workers} workers need at least as many connections, got ${connections}`);
  const bucketMs = input.bucketMs === undefined ? DEFAULTS.bucketMs : msValue('bucket', input.bucketMs, 1, 60_000);
  if (durationMs / bucketMs > LIMITS.maxBuckets) {
    throw invalidInput('bucket', `${bucketMs} ms buckets over ${durationMs} ms would be more than ${LIMITS.maxBuckets} buckets`);
  }

  // workload
  const { mix, workload } = resolveWorkload(input);
  if (workers > 1 && mix?.some((m) => workload?.[m.kind]?.write)) throw invalidInput('workers', 'a write mix needs one write ledger: use one worker');
  // autocannon's response parser is not told the request was a HEAD, so it would wait for a body that never comes.
  const head = mix?.find((m) => workload?.[m.kind]?.method === 'HEAD');
  if (!paced && head) throw invalidInput('mix', `${head.kind} is a HEAD request: use the paced driver (--rate); the closed driver cannot read HEAD answers`);
  const seedIds = validSeedIds(input.seedIds);
  let idRange: { min: number; max: number } = { ...DEFAULTS.idRange };
  if (input.idRange !== undefined) {
    const min = positiveInt('idRange', input.idRange.min, Number.MAX_SAFE_INTEGER);
    const max = positiveInt('idRange', input.idRange.max, Number.MAX_SAFE_INTEGER);
    if (min > max) throw invalidInput('idRange', `min ${min} is above max ${max}`);
    idRange = { min, max };
  }
  const runId = input.runId ?? newRunId();
  if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId)) throw invalidInput('runId', `must be 1-40 letters or digits, got ${JSON.stringify(runId)}`);
  if (input.keySpace !== undefined && !/^[A-Za-z0-9]{1,16}$/.test(input.keySpace)) throw invalidInput('keySpace', 'must be 1-16 letters or digits');

  // TLS
  const insecure = input.insecure === true;
  let ca: string | null = null;
  if (input.ca !== undefined) {
    ca = typeof input.ca === 'string' ? input.ca : Buffer.isBuffer(input.ca) ? input.ca.toString('utf8') : '';
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw invalidInput('ca', 'does not contain a PEM certificate');
  }
  if (!secure && (ca !== null || insecure)) throw invalidInput(ca !== null ? 'ca' : 'insecure', 'only applies to https URLs');
  if (ca !== null && insecure) throw invalidInput('insecure', 'cannot be combined with --ca: either verify against the CA or do not verify');
  const hostHeader = input.hostHeader === undefined ? null : headerSafe('hostHeader', input.hostHeader);
  let servername: string | null = input.servername === undefined ? null : headerSafe('servername', input.servername);
  if (servername !== null && !secure) throw invalidInput('servername', 'only applies to https URLs');
  if (servername === null && secure) {
    const urlHost = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(urlHost) === 0) servername = urlHost;
    // For an IP target, the Host header's name is the one the certificate is for (e.g. faultline.local on 127.0.0.1).
    else if (hostHeader !== null) servername = hostHeader.replace(/:\d+$/, '');
  }
  if (servername !== null && isIP(servername) !== 0) servername = null;

  return {
    url,
    driver,
    stages,
    connections,
    pipelining,
    workers,
    durationMs,
    requests,
    mix,
    workload,
    seedIds,
    ca,
    insecure,
    servername,
    hostHeader,
    bucketMs,
    maxInFlight,
    lateAfterMs,
    timeoutMs,
    allowRemoteTarget,
    runId,
    idRange,
    ...(input.keySpace !== undefined ? { keySpace: input.keySpace } : {}),
  };
}

/** What a report shows instead of a secret. */
export const REDACTED = '[redacted]';

/**
 * The JSON-safe copy of options kept in a result, which the journal, the bundle and --json carry: header values are
 * credentials as often as not (`authorization: Bearer ${TOKEN}`, already substituted), so only their names are kept.
 */
export function toSettings(o: LoadOptions): LoadSettings {
  const { url, ca, workload, ...rest } = o;
  const requests = workload
    ? Object.fromEntries(
        Object.entries(workload).map(([name, r]) => [name, { ...r, headers: Object.fromEntries(Object.keys(r.headers).map((h) => [h, REDACTED])) }]),
      )
    : null;
  return { ...rest, workload: requests, url: url.toString(), ca: ca !== null };
}
