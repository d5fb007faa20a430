// Attaching to a running stack: the reference stack by its project (also one started elsewhere), or any stack through
// its description. A description that names services its project lacks fails here, naming the field.

import { join } from 'node:path';
import { DockerClient } from './docker-client.js';
import { resolveStackOptions, stateDir, type StackOptions } from './config.js';
import { loadStackSpec, type StackSpec } from './spec.js';
import { AttachedStack } from './attached-stack.js';
import { ReferenceStack } from './reference-stack.js';
import { assertTargetAllowed } from '../util/remote-target.js';
import { readSwarmRecord } from '../swarm/swarm-record.js';
import type { ContainerEngine } from './engine.js';
import { SwarmEngine } from './swarm-engine.js';

export interface AttachOptions extends Partial<StackOptions> {
  /** A stack description file (a stack faultline did not start); without it, the reference stack's own. */
  stackFile?: string;
  /** An already-read description (an experiment's inline `stack:`). */
  spec?: StackSpec;
  /** The user said --allow-remote-target: the description's endpoint and Prometheus may be other than loopback. */
  allowRemoteTarget?: boolean;
}

/**
 * Every address of a description that faultline will send traffic to from the Docker host, checked once, here, before
 * anything (readiness, seeding, load, read-backs, probes) reaches it. Databases are loopback by schema or the stack's
 * own containers.
 */
export function checkTargets(spec: StackSpec, allowRemote: boolean | undefined): void {
  assertTargetAllowed(spec.endpoint.url, 'stack.endpoint.url', allowRemote);
  if (spec.endpoint.http_url) assertTargetAllowed(spec.endpoint.http_url, 'stack.endpoint.http_url', allowRemote);
  if (spec.prometheus?.url) assertTargetAllowed(spec.prometheus.url, 'stack.prometheus.url', allowRemote);
}

export async function attachStack(partial: AttachOptions = {}, docker = new DockerClient()): Promise<AttachedStack> {
  const { stackFile, spec: given, allowRemoteTarget, ...rest } = partial;
  const described = given ?? (stackFile ? await loadStackSpec(stackFile) : undefined);
  if (described) checkTargets(described, allowRemoteTarget);
  if (!described) return (await ReferenceStack.recorded(rest, docker)).attach();
  const options = resolveStackOptions({ ...rest, project: described.project });
  await docker.ping();
  const engine = described.kind === 'swarm' ? await swarmEngine(docker, described, options.home) : docker;
  const dir = join(stateDir(options), 'tls');
  const stack = new AttachedStack(options, engine, { dir, caPath: described.endpoint.ca ?? join(dir, 'ca.pem') }, described);
  await stack.checkDescription();
  return stack;
}

/**
 * A swarm stack's engine: the manager is this engine (DOCKER_HOST); each node's own engine comes from the description's
 * `engines`, over those `faultline swarm up` recorded. The manager must be one (checked now, before anything is touched).
 */
async function swarmEngine(manager: DockerClient, spec: StackSpec, home: string): Promise<ContainerEngine> {
  const recorded = (await readSwarmRecord(home))?.engines ?? {};
  const engine = new SwarmEngine(manager, { ...recorded, ...spec.engines });
  await engine.managerNode();
  return engine;
}
