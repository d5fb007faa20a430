// Builds the stack's images from compose/images/<name>/ with content-hashed tags, so an image is rebuilt
// only when its Dockerfile, its context or the base image changed.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as tar from 'tar';
import { DockerClient, LABEL } from './docker-client.js';
import { composeDir } from './config.js';

export const IMAGE_NAMES = ['host', 'lb', 'web', 'app', 'db', 'monitor'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];
export type ImageTags = Record<ImageName, string>;

export const imagesDir = join(composeDir, 'images');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

/** Tag for an image: a hash over every file of its context and the base image's id. */
export async function contextTag(name: ImageName, baseImageId: string): Promise<{ tag: string; files: string[] }> {
  const dir = join(imagesDir, name);
  const files = (await listFiles(dir)).map((f) => relative(dir, f));
  const h = createHash('sha256').update(`base:${baseImageId}\n`);
  for (const f of files)
    h.update(`${f}\n`)
      .update(await readFile(join(dir, f)))
      .update('\n');
  return { tag: `faultline/${name}:${h.digest('hex').slice(0, 12)}`, files };
}

export interface BuildProgress {
  (event: { image: ImageName; tag: string; status: 'cached' | 'building' | 'built'; ms?: number }): void;
}

/** Builds whatever is missing, two at a time (the machines this runs on have two cores). */
export async function buildImages(
  docker: DockerClient,
  baseImage: string,
  options: { signal?: AbortSignal; onProgress?: BuildProgress; concurrency?: number } = {},
): Promise<ImageTags> {
  const baseId = (await docker.images.id(baseImage)) ?? baseImage;
  const tags = {} as ImageTags;
  const queue = [...IMAGE_NAMES];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      options.signal?.throwIfAborted();
      const { tag, files } = await contextTag(name, baseId);
      tags[name] = tag;
      if (await docker.images.exists(tag)) {
        options.onProgress?.({ image: name, tag, status: 'cached' });
        continue;
      }
      options.onProgress?.({ image: name, tag, status: 'building' });
      const started = Date.now();
      const context = tar.c({ cwd: join(imagesDir, name), portable: true }, files);
      await docker.images.build(context as unknown as NodeJS.ReadableStream as never, tag, { BASE_IMAGE: baseImage }, { [LABEL.component]: `image-${name}` });
      options.onProgress?.({ image: name, tag, status: 'built', ms: Date.now() - started });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 2 }, worker));
  return tags;
}
