// The reference swarm stack's images and where they run. A swarm server is one task (Swarm ignores network_mode:
// service:), so each server kind has one image: its component image with the host image's firewall and node exporter
// layered on (compose/swarm/images/Dockerfile). They are built from the compose stack's own images, so both forms run
// the same packages and the same entrypoint scripts.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import type { DockerClient } from '../stack/docker-client.js';
import { LABEL } from '../stack/docker-client.js';
import { composeDir } from '../stack/paths.js';
import type { ImageTags } from '../stack/images.js';
import { FaultlineError } from '../errors.js';

export const swarmDir = join(composeDir, 'swarm');
export const swarmStackFile = join(swarmDir, 'docker-stack.yml');
const contextDir = join(swarmDir, 'images');

export const SWARM_KINDS = ['lb', 'web', 'db', 'monitor'] as const;
export type SwarmKind = (typeof SWARM_KINDS)[number];

/** Where a server runs: on the manager (the LB's ports must be where the load comes from) or on worker A or B. */
export type Slot = 'manager' | 'A' | 'B';

/** The stack file's placement, as a table (a unit test holds the two together): server → kind and slot. */
export const SERVERS: Record<string, { kind: SwarmKind; slot: Slot }> = {
  lb: { kind: 'lb', slot: 'manager' },
  web1: { kind: 'web', slot: 'A' },
  web2: { kind: 'web', slot: 'B' },
  web3: { kind: 'web', slot: 'manager' },
  'db-primary': { kind: 'db', slot: 'manager' },
  'db-replica': { kind: 'db', slot: 'B' },
  monitor: { kind: 'monitor', slot: 'manager' },
};

/** Each kind's component image (the base it layers on) and the packages its other components add. */
const KIND_BUILD: Record<SwarmKind, { main: 'lb' | 'web' | 'db' | 'monitor'; packages: string }> = {
  lb: { main: 'lb', packages: '' },
  web: { main: 'web', packages: 'nodejs node-mysql' },
  db: { main: 'db', packages: '' },
  monitor: { main: 'monitor', packages: '' },
};

export type SwarmImageTags = Record<SwarmKind, string>;

/** The kinds a slot runs. Pure. */
export function kindsIn(slot: Slot): SwarmKind[] {
  return [
    ...new Set(
      Object.values(SERVERS)
        .filter((s) => s.slot === slot)
        .map((s) => s.kind),
    ),
  ];
}

/**
 * What each worker needs: the images of the servers placed on it, no more (a worker keeps its images on a tmpfs, in
 * RAM). node hostname → tags. Pure.
 */
export function shipPlan(workers: { A: string; B: string }, tags: SwarmImageTags): Record<string, string[]> {
  return { [workers.A]: kindsIn('A').map((k) => tags[k]), [workers.B]: kindsIn('B').map((k) => tags[k]) };
}

/** Which ready workers are A and B: faultline's own first, in the order it made them, any other after them by name. Pure. */
export function orderWorkers(hostnames: string[], recorded: string[]): string[] {
  const rank = (h: string) => (recorded.includes(h) ? recorded.indexOf(h) : Number.MAX_SAFE_INTEGER);
  return [...hostnames].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A kind's tag: a hash over the swarm context's files, the kind and the ids of the images it is built from. */
async function kindTag(docker: DockerClient, kind: SwarmKind, args: Record<string, string>, files: string[]): Promise<string> {
  const h = createHash('sha256').update(`kind:${kind}\n`);
  for (const [k, v] of Object.entries(args).sort()) h.update(`${k}=${k.endsWith('_IMAGE') ? ((await docker.images.id(v)) ?? v) : v}\n`);
  for (const f of files) h.update(`${f}\n`).update(await readFile(join(contextDir, f)));
  return `faultline-swarm/${kind}:${h.digest('hex').slice(0, 12)}`;
}

/** Builds whichever kind's image is missing, from the baseline's images (`ReferenceStack.build()` gives their tags). */
export async function buildSwarmImages(
  docker: DockerClient,
  base: ImageTags,
  options: { signal?: AbortSignal; log?: (line: string) => void } = {},
): Promise<SwarmImageTags> {
  const need = (name: 'host' | 'app' | 'lb' | 'web' | 'db' | 'monitor') => {
    const tag = base[name];
    if (!tag) throw new FaultlineError('BUILD_FAILED', `the baseline's ${name} image was not built`);
    return tag;
  };
  const files = (await readdir(contextDir)).sort();
  const tags = {} as SwarmImageTags;
  for (const kind of SWARM_KINDS) {
    options.signal?.throwIfAborted();
    const b = KIND_BUILD[kind];
    const args = { HOST_IMAGE: need('host'), APP_IMAGE: need('app'), MAIN_IMAGE: need(b.main), KIND: kind, PACKAGES: b.packages };
    const tag = await kindTag(docker, kind, args, files);
    tags[kind] = tag;
    if (await docker.images.exists(tag)) continue;
    const started = Date.now();
    const context = tar.c({ cwd: contextDir, portable: true }, files);
    await docker.images.build(context as unknown as NodeJS.ReadableStream as never, tag, args, { [LABEL.component]: `image-swarm-${kind}` });
    options.log?.(`built ${tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return tags;
}
