// A Docker engine in memory for the fault engine's unit tests: containers with labels and states, and an
// exec whose command keeps running "in the container" when the client side is aborted, as a real one does.

import { mkdtemp } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNotFound, LABEL, type ContainerState, type ContainerSummary, type DockerClient, type ExecResult } from '../../src/stack/docker-client.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { FaultStore } from '../../src/faults/state-store.js';
import type { FaultContext, FaultRecord } from '../../src/faults/types.js';

export interface FakeContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: 'running' | 'exited' | 'paused';
  networkMode?: string;
  files?: Record<string, Buffer>;
  /** network → IPv4 address, as listContainers reports it. */
  addresses?: Record<string, string>;
}

/** What an exec does: its result, and how long the command runs in the container. */
export type ExecHandler = (c: FakeContainer, cmd: string[], stdin: string | undefined) => { result: ExecResult; ms?: number; effect?: () => void } | undefined;

let next = 0;
export const hexId = (n = (next += 1)) => n.toString(16).padStart(64, 'a');

export class FakeDocker {
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: string[] = [];
  handlers: ExecHandler[] = [];
  /** Called by remove(), restart() etc. to make them fail for one id. */
  failing = new Map<string, Error>();
  /** Errors inspect() answers for an id (e.g. a 500 while dockerd restarts); the container is still there. */
  inspectErrors = new Map<string, Error>();
  /** Ids another client starts first: the next start() finds them running and answers 304, as Docker does. */
  startedByOther = new Set<string>();

  add(c: Partial<FakeContainer> & { labels: Record<string, string> }): FakeContainer {
    const full: FakeContainer = { id: c.id ?? hexId(), name: c.name ?? `c${next}`, state: 'running', ...c };
    this.containers.set(full.id, full);
    return full;
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id) ?? [...this.containers.values()].find((x) => x.id.startsWith(id) || x.name === id);
    // The engine's shape for a missing container, which the real client's isNotFound reads.
    if (!c) throw Object.assign(new Error(`no such container: ${id}`), { statusCode: 404 });
    const err = this.failing.get(c.id);
    if (err) throw err;
    return c;
  }

  async listContainers(labels: Record<string, string | undefined>): Promise<ContainerSummary[]> {
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => (v === undefined ? k in c.labels : c.labels[k] === v)))
      .map((c) => ({
        id: c.id,
        name: c.name,
        service: c.labels['com.docker.compose.service'] ?? '',
        stack: c.labels[LABEL.stack],
        role: c.labels[LABEL.role],
        server: c.labels[LABEL.server],
        component: c.labels[LABEL.component],
        state: c.state,
        health: 'none',
        labels: c.labels,
        addresses: c.addresses ?? {},
        ports: [],
        networkMode: '',
        host: c.labels[LABEL.component] === 'host',
      }));
  }

  async inspect(id: string): Promise<ContainerState> {
    const c = this.get(id);
    const failure = this.inspectErrors.get(c.id);
    if (failure) throw failure;
    return {
      id: c.id,
      name: c.name,
      image: 'fake/host',
      labels: c.labels,
      status: c.state,
      running: c.state !== 'exited',
      paused: c.state === 'paused',
      health: 'none',
      startedAt: '2026-01-01T00:00:00Z',
      exitCode: c.state === 'exited' ? 137 : 0,
      networkMode: c.networkMode ?? 'default',
      pid: c.state === 'exited' ? 0 : 1,
    };
  }
  async findContainer(id: string): Promise<ContainerState | undefined> {
    try {
      return await this.inspect(id);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async kill(id: string, signal = 'SIGKILL') {
    this.calls.push(`kill ${signal} ${id}`);
    const c = this.get(id);
    if (signal === 'SIGKILL') c.state = 'exited';
  }
  async stop(id: string) {
    this.calls.push(`stop ${id}`);
    this.get(id).state = 'exited';
  }
  async start(id: string) {
    this.calls.push(`start ${id}`);
    const c = this.get(id);
    if (this.startedByOther.delete(c.id)) {
      c.state = 'running';
      throw Object.assign(new Error('(HTTP code 304) container already started'), { statusCode: 304 });
    }
    c.state = 'running';
  }
  async restart(id: string) {
    this.calls.push(`restart ${id}`);
    this.get(id).state = 'running';
  }
  async pause(id: string) {
    this.get(id).state = 'paused';
  }
  async unpause(id: string) {
    this.get(id).state = 'running';
  }
  /** Idempotent, as the real client's: a container that is gone is fine. */
  async remove(id: string) {
    this.calls.push(`remove ${id}`);
    const c = await this.findContainer(id);
    if (c) this.containers.delete(c.id);
  }

  async exec(id: string, cmd: string[], options: { signal?: AbortSignal; stdin?: string } = {}): Promise<ExecResult> {
    const c = this.get(id);
    this.calls.push(`exec ${c.name} ${cmd.join(' ').slice(0, 80)}`);
    const h = this.handlers.map((fn) => fn(c, cmd, options.stdin)).find((x) => x !== undefined) ?? { result: { exitCode: 0, stdout: '', stderr: '' } };
    // The command runs to its end in the container whatever the client does; only the client may give up.
    const done = new Promise<void>((resolve) =>
      setTimeout(() => {
        h.effect?.();
        resolve();
      }, h.ms ?? 0),
    );
    const signal = options.signal;
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      void done.then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    return h.result;
  }

  async putArchive(id: string) {
    this.calls.push(`putArchive ${id}`);
    this.get(id);
  }
  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    return this.get(id).files?.[path];
  }
  async logs() {
    return '';
  }
  async runDetached(options: { labels: Record<string, string>; networkMode: string; helper?: string }): Promise<string> {
    const c = this.add({ labels: { ...options.labels, [LABEL.helper]: options.helper ?? 'helper' }, networkMode: options.networkMode });
    this.calls.push(`run ${c.id}`);
    return c.id;
  }
  async waitForOutput(): Promise<string> {
    return 'faultline-fault-applied';
  }
}

export const PROJECT = 'flunit';

/** A labelled stack container. */
export function stackLabels(server: string, component: string, service = `${server}-${component}`): Record<string, string> {
  return {
    [LABEL.stack]: PROJECT,
    [LABEL.server]: server,
    [LABEL.component]: component,
    [LABEL.role]: server.replace(/\d+$/, ''),
    'com.docker.compose.service': component === 'host' ? server : service,
  };
}

/** A fault context over a FakeDocker, with a real state file in a fresh temporary folder. */
export async function fakeContext(docker: FakeDocker, log: string[] = []): Promise<FaultContext> {
  const stateDir = await mkdtemp(join(tmpdir(), 'faultline-unit-'));
  const stack = {
    project: PROJECT,
    stateDir,
    internalNetwork: `${PROJECT}_internal`,
    options: { project: PROJECT, httpsPort: 1, httpPort: 2, domain: 'faultline.local', netPrefix: '10.0.0', edgePrefix: '10.0.1', home: stateDir },
    helperImage: async () => 'fake/host',
    spec: { services: {} },
    containers: async () => docker.listContainers({ [LABEL.stack]: PROJECT }),
  } as unknown as AttachedStack;
  return { stack, docker: docker as unknown as DockerClient, store: new FaultStore(stateDir), log: (l) => log.push(l), random: () => 0, maxDurationMs: 60_000 };
}

/** A ContainerSummary with every field at a plain default (running, no labels, no addresses), for pure tests. */
export function containerSummary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    id: over.name ?? 'id',
    name: 'c',
    service: '',
    stack: undefined,
    role: undefined,
    server: undefined,
    component: undefined,
    state: 'running',
    health: 'none',
    labels: {},
    addresses: {},
    ports: [],
    networkMode: 'bridge',
    host: false,
    ...over,
  };
}

/** Docker's shape for a server error (what dockerode rejects with): a 500, not a missing container. */
export function dockerError(statusCode = 500, message = 'Internal Server Error'): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode });
}

/** A fault record with every field at a plain default (an active container-kill held by this process), for store tests. */
export function faultRecord(over: Partial<FaultRecord> = {}): FaultRecord {
  return {
    id: 'container-kill-1',
    fault: 'container-kill',
    stack: PROJECT,
    params: {},
    targets: [],
    slots: ['container:x'],
    steps: [],
    status: 'active',
    createdAt: '',
    pid: process.pid,
    hostname: hostname(),
    data: {},
    ...over,
  };
}
