// The base image the stack's Dockerfiles start FROM: debian:bookworm-slim when it can be had, otherwise
// one made here with debootstrap + docker import (air-gapped CI, machines without Docker Hub).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultlineError } from '../errors.js';
import type { DockerClient } from './docker-client.js';

export const UPSTREAM_BASE = 'debian:bookworm-slim';
export const LOCAL_BASE_REPO = 'faultline/base';
export const LOCAL_BASE_TAG = 'bookworm';
export const LOCAL_BASE = `${LOCAL_BASE_REPO}:${LOCAL_BASE_TAG}`;

export type BaseImageSource = 'env' | 'present' | 'pulled' | 'local' | 'debootstrap';

function run(cmd: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}: ${out.trim().split('\n').slice(-5).join('\n')}`))));
  });
}

/** Which base image to use, without making one; undefined when none is available yet. */
export async function findBaseImage(docker: DockerClient, env = process.env): Promise<{ image: string; source: BaseImageSource } | undefined> {
  if (env.FAULTLINE_BASE_IMAGE) return { image: env.FAULTLINE_BASE_IMAGE, source: 'env' };
  if (await docker.images.exists(UPSTREAM_BASE)) return { image: UPSTREAM_BASE, source: 'present' };
  if (await docker.images.exists(LOCAL_BASE)) return { image: LOCAL_BASE, source: 'local' };
  return undefined;
}

export async function ensureBaseImage(
  docker: DockerClient,
  options: { signal?: AbortSignal; log?: (line: string) => void; mirror?: string } = {},
): Promise<{ image: string; source: BaseImageSource }> {
  const found = await findBaseImage(docker);
  if (found) {
    if (found.source === 'env' && !(await docker.images.exists(found.image)) && !(await docker.images.tryPull(found.image, options.signal))) {
      throw new FaultlineError('BUILD_FAILED', `base image ${found.image} (FAULTLINE_BASE_IMAGE) is neither present nor pullable`);
    }
    return found;
  }
  if (await docker.images.tryPull(UPSTREAM_BASE, options.signal)) return { image: UPSTREAM_BASE, source: 'pulled' };
  options.log?.(`${UPSTREAM_BASE} cannot be pulled; making ${LOCAL_BASE} with debootstrap (about a minute)`);
  const dir = await mkdtemp(join(tmpdir(), 'faultline-rootfs-'));
  try {
    const mirror = options.mirror ?? process.env.FAULTLINE_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
    try {
      await run('debootstrap', ['--variant=minbase', 'bookworm', join(dir, 'rootfs'), mirror], options.signal);
    } catch (err) {
      throw new FaultlineError('BUILD_FAILED', `debootstrap failed: ${(err as Error).message}`, {
        cause: err,
        hint: 'run as root with debootstrap installed (scripts/bootstrap.sh installs it), or set FAULTLINE_BASE_IMAGE',
      });
    }
    // The system tar keeps device nodes, owners and modes exactly as debootstrap made them.
    const child = spawn('tar', ['-C', join(dir, 'rootfs'), '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await docker.images.import(child.stdout, LOCAL_BASE_REPO, LOCAL_BASE_TAG);
    return { image: LOCAL_BASE, source: 'debootstrap' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
