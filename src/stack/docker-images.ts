// The Docker client's images part (testcontainers-style: one client object with parts). It is handed the client's
// own dockerode handle; nothing outside src/stack/docker-*.ts sees dockerode.

import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { FaultlineError } from '../errors.js';

export class DockerImages {
  constructor(private readonly api: Docker) {}

  async exists(tag: string): Promise<boolean> {
    try {
      await this.api.getImage(tag).inspect();
      return true;
    } catch {
      return false;
    }
  }

  async id(tag: string): Promise<string | undefined> {
    try {
      return (await this.api.getImage(tag).inspect()).Id;
    } catch {
      return undefined;
    }
  }

  /** Tries to pull an image; resolves false (never throws) when no registry can be reached. */
  async tryPull(tag: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const stream = await this.api.pull(tag, { abortSignal: signal });
      await new Promise<void>((resolve, reject) => this.api.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
      return this.exists(tag);
    } catch {
      return false;
    }
  }

  /** Builds an image from a tar build context; throws BUILD_FAILED with the builder's last error. */
  async build(context: Readable, tag: string, buildArgs: Record<string, string>, labels: Record<string, string>): Promise<void> {
    const stream = await this.api.buildImage(context, { t: tag, buildargs: buildArgs, labels, rm: true, forcerm: true });
    const tail: string[] = [];
    await new Promise<void>((resolve, reject) =>
      this.api.modem.followProgress(
        stream,
        (err: Error | null, output: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
          const failed = err?.message ?? output?.find((o) => o.error)?.error;
          if (failed) reject(new FaultlineError('BUILD_FAILED', `building ${tag} failed: ${failed.trim()}\n${tail.slice(-15).join('')}`));
          else resolve();
        },
        (event: { stream?: string }) => {
          if (event.stream) tail.push(event.stream);
          if (tail.length > 50) tail.shift();
        },
      ),
    );
  }

  /** Imports a root filesystem tarball as an image (`docker import`). */
  async import(tarball: Readable, repo: string, tagName: string): Promise<void> {
    const stream = await this.api.importImage(tarball as unknown as string, { repo, tag: tagName });
    await new Promise<void>((resolve, reject) => this.api.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
  }

  /** One image as a `docker save` stream (its layers, config and tag). */
  async save(tag: string): Promise<Readable> {
    return (await this.api.getImage(tag).get()) as unknown as Readable;
  }

  /** Loads a `docker save` stream (`docker load`); rejects with the engine's error. */
  async load(stream: Readable): Promise<void> {
    const out = await this.api.loadImage(stream as unknown as string);
    await new Promise<void>((resolve, reject) =>
      this.api.modem.followProgress(out, (err: Error | null, output: Array<{ error?: string }>) => {
        const failed = err?.message ?? output?.find((o) => o.error)?.error;
        if (failed) reject(new FaultlineError('BUILD_FAILED', `loading images failed: ${failed.trim()}`));
        else resolve();
      }),
    );
  }
}
