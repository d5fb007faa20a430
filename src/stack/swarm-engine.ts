// The engine of a swarm stack: the manager (this engine, DOCKER_HOST) lists the tasks, and every call on a task goes to
// the engine of the node it runs on (docs/architecture.md "How a fault reaches a task on another node"). Ids are
// `<container id>@<node hostname>`, so a fault's record names the node and a fresh process (`faultline revert`) reaches
// the same engine again. The manager's own node is reached through the manager's client.

import { FaultlineError } from '../errors.js';
import { DockerClient } from './docker-client.js';
import type { ContainerState, ContainerSummary, ExecResult, RunOptions } from './docker-types.js';
import { splitId, taskContainerId, type ContainerEngine } from './engine.js';
import { STACK_NAMESPACE, tasksToContainers } from './swarm-tasks.js';
import type { Readable } from 'node:stream';

/**
 * A frozen node's engine (node-down mode=freeze) accepts a connection and never answers: after this long a listing
 * treats it as an engine that cannot be asked (its tasks' state comes from the manager; nothing on it can be reached).
 */
const FROZEN_MS = 10_000;
const FROZEN = Symbol('frozen');
const orFrozen = <T>(p: Promise<T>): Promise<T | typeof FROZEN> =>
  Promise.race([p, new Promise<typeof FROZEN>((resolve) => setTimeout(() => resolve(FROZEN), FROZEN_MS).unref())]);

/** The socket a node's engine answers on inside that node, where a helper's bind mount is resolved. */
const NODE_SOCKET = '/var/run/docker.sock';

export class SwarmEngine implements ContainerEngine {
  private readonly clients = new Map<string, DockerClient>();
  private self: Promise<string> | undefined;

  constructor(
    /** The manager: the task list, and the engine of the manager's own node. */
    readonly manager: DockerClient,
    /** Every other node's engine, by node hostname (DOCKER_HOST-style endpoints). */
    readonly endpoints: Record<string, string>,
    private readonly open: (endpoint: string) => DockerClient = DockerClient.at,
  ) {}

  /** The manager's own node hostname, asked once. */
  managerNode(): Promise<string> {
    this.self ??= (async () => {
      const { nodeId, isManager, state } = await this.manager.swarm.membership();
      if (state !== 'active' || !isManager)
        throw new FaultlineError('INVALID_INPUT', `stack.kind: swarm, but this Docker engine is not a swarm manager (swarm state: ${state})`, {
          hint: 'point DOCKER_HOST at a manager of the swarm the stack runs on',
        });
      return (await this.manager.swarm.nodes()).find((n) => n.id === nodeId)?.hostname ?? nodeId;
    })();
    return this.self;
  }

  /** The client of a node's engine; INVALID_INPUT naming the node when none is known. */
  async engineOf(node: string | undefined): Promise<DockerClient> {
    if (node === undefined || node === (await this.managerNode())) return this.manager;
    const known = this.clients.get(node);
    if (known) return known;
    const endpoint = this.endpoints[node];
    if (!endpoint)
      throw new FaultlineError('INVALID_INPUT', `no engine known for swarm node ${node} (known: ${Object.keys(this.endpoints).sort().join(', ') || 'none'})`, {
        hint: `give it in the stack description: engines: { ${node}: unix:///… | tcp://… | ssh://… }`,
      });
    const client = this.open(endpoint);
    this.clients.set(node, client);
    return client;
  }

  private async on(id: string): Promise<{ engine: DockerClient; container: string; node: string }> {
    const { container, node } = splitId(id);
    return { engine: await this.engineOf(node), container, node: node ?? (await this.managerNode()) };
  }

  /** The stack's running tasks as containers: the manager's task list, each container's state from its node's engine. */
  async stackContainers(stack: string): Promise<ContainerSummary[]> {
    const [tasks, nodes] = await Promise.all([this.manager.swarm.stackTasks(stack), this.manager.swarm.nodes()]);
    const hostnames = new Map(nodes.map((n) => [n.id, n.hostname]));
    const used = [...new Set(tasks.filter((t) => t.desiredState === 'running').map((t) => hostnames.get(t.nodeId) ?? t.nodeId))];
    // A node whose engine cannot be asked (or is frozen) still lists its tasks (state from the manager); acting on one says why.
    const onNode = new Map(
      await Promise.all(
        used.map(
          async (node) =>
            [
              node,
              await this.engineOf(node).then(
                (e) =>
                  orFrozen(e.listContainers({ [STACK_NAMESPACE]: stack })).then(
                    (l) => (l === FROZEN ? undefined : l),
                    () => undefined,
                  ),
                () => undefined,
              ),
            ] as const,
        ),
      ),
    );
    return tasksToContainers(stack, tasks, hostnames, onNode);
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.manager.ping(signal);
  }
  version(): Promise<{ version: string; apiVersion: string }> {
    return this.manager.version();
  }

  /** Containers by label on every node's engine (helpers of a fault may run on any), ids with their node. */
  async listContainers(labels: Record<string, string | undefined>, all = true): Promise<ContainerSummary[]> {
    const self = await this.managerNode();
    const nodes = [self, ...Object.keys(this.endpoints).filter((n) => n !== self)];
    const lists = await Promise.all(
      nodes.map(async (node) => {
        const list = await orFrozen((await this.engineOf(node)).listContainers(labels, all)).catch((err: unknown) => {
          throw new FaultlineError(
            'DOCKER_UNAVAILABLE',
            `the engine of swarm node ${node} (${this.endpoints[node] ?? 'the manager'}) does not answer: ${(err as Error).message}`,
            {
              cause: err,
              hint: 'helpers of faults may run on any node: start it, or give its engine in the description (engines:)',
            },
          );
        });
        // A frozen node: nothing on it can be reached (a helper there is listed again once it thaws).
        if (list === FROZEN) return [];
        return list.map((c) => ({ ...c, id: taskContainerId(c.id, node) }));
      }),
    );
    return lists.flat();
  }

  async inspect(id: string): Promise<ContainerState> {
    const { engine, container, node } = await this.on(id);
    const info = await engine.inspect(container);
    const joined = /^container:([0-9a-f]{12,64})$/.exec(info.networkMode)?.[1];
    return { ...info, id: taskContainerId(info.id, node), ...(joined ? { networkMode: `container:${taskContainerId(joined, node)}` } : {}) };
  }
  async findContainer(id: string): Promise<ContainerState | undefined> {
    const { engine, container, node } = await this.on(id);
    const info = await engine.findContainer(container);
    return info && { ...info, id: taskContainerId(info.id, node) };
  }
  async exec(id: string, cmd: string[], options?: { signal?: AbortSignal; stdin?: string; user?: string; env?: string[] }): Promise<ExecResult> {
    const { engine, container } = await this.on(id);
    return engine.exec(container, cmd, options);
  }
  async kill(id: string, signal?: string): Promise<void> {
    const { engine, container } = await this.on(id);
    await engine.kill(container, signal);
  }
  async stop(id: string, timeoutS?: number): Promise<void> {
    const { engine, container } = await this.on(id);
    await engine.stop(container, timeoutS);
  }
  async start(id: string): Promise<void> {
    const { engine, container } = await this.on(id);
    await engine.start(container);
  }
  async restart(id: string, timeoutS?: number): Promise<void> {
    const { engine, container } = await this.on(id);
    await engine.restart(container, timeoutS);
  }
  async pause(id: string): Promise<void> {
    const { engine, container } = await this.on(id);
    await engine.pause(container);
  }
  async unpause(id: string): Promise<void> {
    const { engine, container } = await this.on(id);
    await engine.unpause(container);
  }
  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    const { engine, container } = await this.on(id);
    return engine.readFile(container, path);
  }
  async putArchive(id: string, path: string, tarball: Buffer | Readable): Promise<void> {
    const { engine, container } = await this.on(id);
    await engine.putArchive(container, path, tarball);
  }
  async logs(id: string, tail?: number): Promise<string> {
    const { engine, container } = await this.on(id);
    return engine.logs(container, tail);
  }
  async waitForOutput(id: string, pattern: RegExp, options: { timeoutMs: number; signal?: AbortSignal }): Promise<string> {
    const { engine, container } = await this.on(id);
    return engine.waitForOutput(container, pattern, options);
  }
  async remove(id: string): Promise<void> {
    const { engine, container } = await this.on(id);
    await engine.remove(container);
  }

  /** Where a helper runs: on the node of the container whose namespace it joins, else of `near`, else the manager. */
  private async placed(options: RunOptions): Promise<{ engine: DockerClient; node: string; options: RunOptions }> {
    const joined = /^container:(.+)$/.exec(options.networkMode)?.[1];
    const { engine, container, node } = await this.on(joined ?? options.near ?? '');
    return { engine, node, options: joined ? { ...options, networkMode: `container:${container}` } : options };
  }
  async runDetached(options: RunOptions): Promise<string> {
    const { engine, node, options: local } = await this.placed(options);
    return taskContainerId(await engine.runDetached(local), node);
  }
  async runToCompletion(options: RunOptions, signal?: AbortSignal): Promise<ExecResult> {
    const { engine, options: local } = await this.placed(options);
    return engine.runToCompletion(local, signal);
  }

  /** The manager's node: the socket DOCKER_HOST names (undefined); any other node: its engine's own socket on it. */
  async socketFor(id: string): Promise<string | undefined> {
    const { node } = splitId(id);
    return node === undefined || node === (await this.managerNode()) ? undefined : NODE_SOCKET;
  }
}
