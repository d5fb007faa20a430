// What `faultline swarm up` made, written before it acts: whether it made the swarm itself (then `swarm down` leaves
// it) and the worker nodes it started. A swarm faultline did not make has no record, so nothing can remove it.

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';

export const swarmRecordSchema = z.object({
  version: z.literal(1),
  /** True when this engine was in no swarm and faultline made it the manager of a new one. */
  madeSwarm: z.boolean(),
  /** The manager's address the workers join at. */
  advertiseAddr: z.string(),
  /** The worker nodes faultline started (their hostnames), in order. */
  nodes: z.array(z.string()),
  /** Each worker's own engine, as DOCKER_HOST would name it: how faults reach a task on that node. */
  engines: z.record(z.string()).default({}),
  createdAt: z.string(),
});
export type SwarmRecord = z.output<typeof swarmRecordSchema>;

export const swarmRecordFile = (home: string) => join(home, 'swarm.json');

export async function readSwarmRecord(home: string): Promise<SwarmRecord | undefined> {
  let text: string;
  try {
    text = await readFile(swarmRecordFile(home), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = swarmRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new FaultlineError('INVALID_INPUT', `${swarmRecordFile(home)}: not a swarm record faultline wrote`);
  return parsed.data;
}

/** Written whole or not at all (a temporary file renamed over the old one). */
export async function writeSwarmRecord(home: string, record: SwarmRecord): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const tmp = `${swarmRecordFile(home)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, swarmRecordFile(home));
}

export async function dropSwarmRecord(home: string): Promise<void> {
  await rm(swarmRecordFile(home), { force: true });
}

/** The folder a worker's engine socket appears in (bound into the node at /run/faultline-node). */
export const nodeSocketDir = (home: string, hostname: string) => join(home, 'swarm', hostname);

/** The endpoint of a worker's own engine, as DOCKER_HOST would name it. */
export const nodeEngine = (home: string, hostname: string) => `unix://${join(nodeSocketDir(home, hostname), 'docker.sock')}`;

/** The hostnames of nodes 1..n: what `swarm up --nodes n` runs. Pure. */
export function nodeNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `faultline-node-${i + 1}`);
}
