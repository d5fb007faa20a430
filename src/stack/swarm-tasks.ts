// A swarm stack's containers are its tasks, found by service and node on the manager, never by container name: the
// manager's task list says, per task, which node runs it and which container (Status.ContainerStatus.ContainerID);
// that node's engine then says the container's state and health. Pure: the engines' answers come in as data.

import type { SwarmTask } from './docker-swarm.js';
import { LABEL, type ContainerSummary } from './docker-types.js';
import { taskContainerId } from './engine.js';

/** The label docker stack deploy puts on a stack's services, networks and containers. */
export const STACK_NAMESPACE = 'com.docker.stack.namespace';

/** A service's name in the description: without the `<stack>_` prefix docker stack deploy adds (pure). */
export function shortServiceName(stack: string, service: string): string {
  return service.startsWith(`${stack}_`) ? service.slice(stack.length + 1) : service;
}

/**
 * The stack's current tasks as containers (pure): those the swarm wants running and whose container exists (a task
 * still being scheduled has none yet). Each id is `<container id>@<node hostname>`; role, server and component come
 * from the service's own container labels (not the image's), state and health from the node's engine when it
 * answered, else from the task. Network addresses are the task's, by network name.
 */
export function tasksToContainers(
  stack: string,
  tasks: SwarmTask[],
  hostnames: Map<string, string>,
  onNode: Map<string, ContainerSummary[] | undefined>,
): ContainerSummary[] {
  const out: ContainerSummary[] = [];
  for (const t of tasks) {
    if (t.desiredState !== 'running' || !t.containerId) continue;
    const node = hostnames.get(t.nodeId) ?? t.nodeId;
    const seen = onNode.get(node)?.find((c) => c.id === t.containerId);
    const service = shortServiceName(stack, t.service);
    const labels = seen?.labels ?? t.labels;
    out.push({
      id: taskContainerId(t.containerId, node),
      name: seen?.name ?? `${t.service}.${t.slot ?? t.nodeId}.${t.id}`,
      service,
      stack: t.labels[LABEL.stack],
      role: t.labels[LABEL.role],
      server: t.labels[LABEL.server],
      component: t.labels[LABEL.component],
      state: seen?.state ?? (t.state === 'running' ? 'running' : t.state),
      health: seen?.health ?? 'none',
      labels,
      addresses: t.addresses,
      ports: seen?.ports ?? [],
      networkMode: seen?.networkMode ?? '',
      host: t.labels[LABEL.component] === 'host',
    });
  }
  return out.sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}
