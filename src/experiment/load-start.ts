// The experiment's load, started against the acquired stack: the URL and mix from the experiment and the stack's
// workload, rows seeded first when the mix reads by id, TLS as the target verifies its endpoint.

import { startLoad, type LoadJob } from '../load/index.js';
import { formatMix, parseMix, validateMix } from '../load/mix.js';
import type { WriteId } from '../load/ledger.js';
import { seedWrites, seedingWrite } from '../load/workload.js';
import { usesId, workloadRequests, type RequestSpec } from '../load/workload-spec.js';
import type { RunTarget } from './acquire.js';
import type { Experiment } from './schema.js';
import { startAgentsJob } from '../swarm/agents-job.js';
import { defaultStackOptions } from '../stack/config.js';
import type { ExperimentRunOptions, Log } from './run-options.js';

const SEED_ITEMS = 20;

/** Starts the experiment's load against the stack (seeding rows first when the mix reads by id). */
export async function startExperimentLoad(
  exp: Experiment,
  target: RunTarget,
  options: Pick<ExperimentRunOptions, 'signal' | 'onLoadEvent' | 'onLoadStart' | 'stack'>,
  log: Log,
): Promise<LoadJob> {
  const { stack } = target;
  const l = exp.load;
  const workload = l.workload ?? stack.spec.workload;
  const requests = workloadRequests(workload);
  // The file's mix was parsed with it, its names are checked against the workload now. An experiment that names a
  // path (and no mix) GETs it, as before workloads existed; otherwise the workload's own mix.
  const mix = l.mix
    ? validateMix(l.mix, 'load.mix', Object.keys(requests))
    : l.path === undefined && workload?.mix !== undefined
      ? parseMix(workload.mix, 'workload.mix', Object.keys(requests))
      : undefined;
  const path = l.path ?? stack.spec.endpoint.ready_path;
  // With a mix, requests pick their own paths under the URL's path, so the URL is the stack's root.
  const url = mix ? `${stack.httpsUrl}/` : `${stack.httpsUrl}${path}`;
  log(
    `load: ${l.driver} ${l.rate !== undefined ? `${typeof l.rate === 'number' ? l.rate : `${l.rate.from}→${l.rate.to}`} req/s` : `${l.connections ?? 10} connections`} for ${l.duration / 1000} s against ${url}${mix ? ` (mix ${formatMix(mix)})` : ''}`,
  );
  const tls = target.tls(!l.insecure);
  let seedIds: WriteId[] | undefined;
  if (mix) {
    const names = mix.map((e) => e.kind);
    // Reads by id need rows to read: a fresh stack has none until the run's first writes are acknowledged.
    if (names.some((n) => usesId(requests[n] as RequestSpec))) {
      const seeder = seedingWrite(requests, names);
      if (seeder) seedIds = await seedWrites(stack.httpsUrl, seeder, SEED_ITEMS, tls, options.signal);
      else log('load: the mix reads by ${id} but the workload has no write (without ${id}) to seed ids with; reads use ids 1..100');
    }
  }
  const input = {
    url,
    ...(seedIds ? { seedIds } : {}),
    ...(l.rate !== undefined ? { rate: l.rate } : {}),
    ...(l.connections !== undefined ? { connections: l.connections } : {}),
    ...(mix ? { mix, ...(workload ? { workload } : {}) } : {}),
    durationMs: l.duration,
    bucketMs: l.bucket,
    ...(l.max_in_flight ? { maxInFlight: l.max_in_flight } : {}),
    ...(l.timeout ? { timeoutMs: l.timeout } : {}),
    // The endpoint passed the loopback rule when the stack was attached; the user's --allow-remote-target holds here too.
    ...(options.stack?.allowRemoteTarget ? { allowRemoteTarget: true } : {}),
    ...tls,
  };
  const context = { signal: options.signal, ...(options.onLoadEvent ? { onEvent: options.onLoadEvent } : {}) };
  let job: LoadJob;
  if (l.agents !== undefined && l.network !== undefined && l.url !== undefined) {
    // From agents on the swarm, at the target as they reach it; faults are scheduled on their shared t = 0.
    // The endpoint's TLS settings belong to its URL: a plain-HTTP service on the network takes none of them.
    const plain = l.url.startsWith('http:');
    const {
      ca: _ca,
      insecure: _insecure,
      servername: _servername,
      ...bare
    } = input as typeof input & { ca?: unknown; insecure?: unknown; servername?: unknown };
    const agents = startAgentsJob(
      { input: { ...(plain ? bare : input), url: l.url }, agents: l.agents, network: l.network, home: defaultStackOptions().home, log },
      context,
    );
    await agents.started;
    job = agents.job;
  } else job = startLoad(input, context);
  options.onLoadStart?.(job, exp, stack);
  return job;
}
