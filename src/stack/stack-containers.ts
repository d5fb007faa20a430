// A stack's containers, whoever started it: those of its compose project and those labelled faultline.stack=<project>
// (what faultline itself started for it), with role, server and component from their labels or the description.

import { FaultlineError } from '../errors.js';
import { COMPOSE_PROJECT, LABEL, type ContainerSummary } from './docker-types.js';
import type { ContainerEngine } from './engine.js';
import { roleOf, type StackSpec } from './spec.js';
import { isHelper } from './servers.js';
import { SwarmEngine } from './swarm-engine.js';
import { STACK_NAMESPACE } from './swarm-tasks.js';

/**
 * The stack's containers with their roles, in one listing per label (the two sets overlap). A swarm stack's are its
 * running tasks, from the manager's task list, and the helpers faultline labelled for it on any node.
 */
export async function listStackContainers(docker: Pick<ContainerEngine, 'listContainers'>, project: string, spec: StackSpec): Promise<ContainerSummary[]> {
  if (spec.kind === 'swarm') {
    if (!(docker instanceof SwarmEngine)) throw new FaultlineError('INTERNAL', `stack ${project} is a swarm stack, but was attached without its swarm engine`);
    const [tasks, labelled] = await Promise.all([docker.stackContainers(project), docker.listContainers({ [LABEL.stack]: project })]);
    // The tasks' containers carry faultline.stack too: those of tasks Swarm shut down (a redeploy, a killed task) stay on
    // their nodes, exited, and are not the stack's; from the labelled listing only what faultline started counts.
    const helpers = labelled.filter((c) => c.labels[STACK_NAMESPACE] === undefined);
    const byId = new Map([...helpers, ...tasks].map((c) => [c.id, c]));
    return withRoles([...byId.values()], spec);
  }
  const [labelled, composed] = await Promise.all([docker.listContainers({ [LABEL.stack]: project }), docker.listContainers({ [COMPOSE_PROJECT]: project })]);
  const byId = new Map([...labelled, ...composed].map((c) => [c.id, c]));
  return withRoles([...byId.values()], spec);
}

/** Fills role, server and component from the description where labels are missing, and marks each server's host (pure). */
export function withRoles(list: ContainerSummary[], spec: StackSpec | undefined): ContainerSummary[] {
  const mapped = list.map((c) => ({ ...c, ...roleOf(spec, c.service, c) }));
  const labelledHost = new Set(mapped.filter((c) => c.component === 'host' && c.server).map((c) => c.server));
  // A server without a host container (a service that is its own machine) is hosted by the container that owns
  // the network namespace: not one that joined another's (network_mode service:/container:).
  return mapped.map((c) => ({
    ...c,
    host: c.component === 'host' || (Boolean(c.server) && !labelledHost.has(c.server) && !c.networkMode.startsWith('container:') && !isHelper(c)),
  }));
}
