// The container engine faults, probes and the attached stack work through, by what faultline needs (the operations
// of docs/kubernetes.md's table), not by what Docker offers. DockerClient is the one-engine implementation (a compose
// stack, and every node's own engine); SwarmEngine (swarm-engine.ts) routes each call to the engine of the node a task
// runs on. Ids are opaque to callers: a container id for one engine, `<container id>@<node>` for a swarm task.

import type { ContainerState, ContainerSummary, ExecResult, RunOptions } from './docker-types.js';
import type { Readable } from 'node:stream';

export interface ContainerEngine {
  ping(signal?: AbortSignal): Promise<void>;
  version(): Promise<{ version: string; apiVersion: string }>;
  /** Containers by label (a swarm: on every node's engine, helpers included). */
  listContainers(labels: Record<string, string | undefined>, all?: boolean): Promise<ContainerSummary[]>;
  inspect(id: string): Promise<ContainerState>;
  findContainer(id: string): Promise<ContainerState | undefined>;
  exec(id: string, cmd: string[], options?: { signal?: AbortSignal; stdin?: string; user?: string; env?: string[] }): Promise<ExecResult>;
  kill(id: string, signal?: string): Promise<void>;
  stop(id: string, timeoutS?: number): Promise<void>;
  start(id: string): Promise<void>;
  restart(id: string, timeoutS?: number): Promise<void>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  readFile(id: string, path: string): Promise<Buffer | undefined>;
  putArchive(id: string, path: string, tarball: Buffer | Readable): Promise<void>;
  logs(id: string, tail?: number): Promise<string>;
  /** A helper: on a swarm, on the node of the container its network mode joins (or of `options.near`). */
  runDetached(options: RunOptions): Promise<string>;
  waitForOutput(id: string, pattern: RegExp, options: { timeoutMs: number; signal?: AbortSignal }): Promise<string>;
  runToCompletion(options: RunOptions, signal?: AbortSignal): Promise<ExecResult>;
  remove(id: string): Promise<void>;
  /**
   * The engine's unix socket as a helper started next to `id` mounts it (a process fault's dead man's switch talks to
   * the Docker API through it); undefined, or no such method: the socket DOCKER_HOST names (switch.ts dockerSocket).
   */
  socketFor?(id: string): Promise<string | undefined>;
}

/** A container id, alone or as a task's `<id>@<node>`. */
const OPAQUE_ID = /^([0-9a-f]{12,64})(?:@([A-Za-z0-9][A-Za-z0-9_.-]{0,252}))?$/;

/** A swarm task's id as callers see it: its container id, then the node it runs on (pure). */
export function taskContainerId(containerId: string, node: string): string {
  return `${containerId}@${node}`;
}

/**
 * The parts of an id (pure): the container id on its engine, and the node for a swarm task. An id of another shape (a
 * name, a short prefix given by a user) is passed through whole, with no node.
 */
export function splitId(id: string): { container: string; node: string | undefined } {
  const m = OPAQUE_ID.exec(id);
  return m ? { container: m[1]!, node: m[2] } : { container: id, node: undefined };
}

/** The node a task runs on, from its id; undefined for a container of one engine (pure). */
export function nodeOfId(id: string): string | undefined {
  return splitId(id).node;
}
