// Builds images from a folder of build contexts (compose/images/<name>/ for the stack's own) with content-hashed
// tags, so an image is rebuilt only when its Dockerfile, its context or the base image changed.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as tar from 'tar';
import { DockerClient, LABEL } from './docker-client.js';
import { composeDir } from './paths.js';
import { IMAGE_NAMES, PROFILES, type ImageName, type ProfileName } from './profiles.js';

export { IMAGE_NAMES, type ImageName } from './profiles.js';
/** The tag of each image a profile runs. */
export type ImageTags = Partial<Record<ImageName, string>>;

export const imagesDir = join(composeDir, 'images');

/**
 * A folder of build contexts, one sub-folder per image (each with a Dockerfile taking ARG BASE_IMAGE). The
 * reference stack's is one; test fixtures have their own, so that they are built and cached the same way.
 */
export interface ImageSet<N extends string = string> {
  /** The folder holding <name>/Dockerfile for each name. */
  dir: string;
  names: readonly N[];
  /** Images are tagged <repo>/<name>:<hash>. */
  repo: string;
  /** Labels each image carries (and so every container made from it). */
  labels: (name: N) => Record<string, string>;
}

export const REFERENCE_IMAGES: ImageSet<ImageName> = {
  dir: imagesDir,
  names: IMAGE_NAMES,
  repo: 'faultline',
  labels: (name) => ({ [LABEL.component]: `image-${name}` }),
};

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

/** Tag for an image: a hash over every file of its context and the base image's id (default: the reference stack's images). */
export async function contextTag(
  name: string,
  baseImageId: string,
  set: Pick<ImageSet, 'dir' | 'repo'> = REFERENCE_IMAGES,
): Promise<{ tag: string; files: string[] }> {
  const dir = join(set.dir, name);
  const files = (await listFiles(dir)).map((f) => relative(dir, f));
  const h = createHash('sha256').update(`base:${baseImageId}\n`);
  for (const f of files)
    h.update(`${f}\n`)
      .update(await readFile(join(dir, f)))
      .update('\n');
  return { tag: `${set.repo}/${name}:${h.digest('hex').slice(0, 12)}`, files };
}

export interface BuildProgress<N extends string = ImageName> {
  (event: { image: N; tag: string; status: 'cached' | 'building' | 'built'; ms?: number }): void;
}

export interface BuildOptions<N extends string = ImageName> {
  signal?: AbortSignal;
  onProgress?: BuildProgress<N>;
  concurrency?: number;
}

/** Builds whatever of a set is missing, two at a time (the machines this runs on have two cores). */
export async function buildImageSet<N extends string>(
  docker: DockerClient,
  baseImage: string,
  set: ImageSet<N>,
  options: BuildOptions<N> = {},
): Promise<Record<N, string>> {
  const baseId = (await docker.images.id(baseImage)) ?? baseImage;
  const tags = {} as Record<N, string>;
  const queue = [...set.names];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      options.signal?.throwIfAborted();
      const { tag, files } = await contextTag(name, baseId, set);
      tags[name] = tag;
      if (await docker.images.exists(tag)) {
        options.onProgress?.({ image: name, tag, status: 'cached' });
        continue;
      }
      options.onProgress?.({ image: name, tag, status: 'building' });
      const started = Date.now();
      const context = tar.c({ cwd: join(set.dir, name), portable: true }, files);
      await docker.images.build(context as unknown as NodeJS.ReadableStream as never, tag, { BASE_IMAGE: baseImage }, set.labels(name));
      options.onProgress?.({ image: name, tag, status: 'built', ms: Date.now() - started });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 2 }, worker));
  return tags;
}

/** Builds whatever of a profile's images is missing (default: the baseline's). */
export function buildImages(docker: DockerClient, baseImage: string, options: BuildOptions & { profile?: ProfileName } = {}): Promise<ImageTags> {
  const { profile = 'baseline', ...rest } = options;
  return buildImageSet(docker, baseImage, { ...REFERENCE_IMAGES, names: PROFILES[profile].images }, rest);
}
