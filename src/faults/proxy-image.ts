// The fault proxy's image (compose/images/proxy: the base image, Debian's nodejs and nftables, proxy.mjs), built the
// way the stack's own images are, on the first proxy fault and then found by its content-hashed tag.

import { FaultlineError } from '../errors.js';
import { ensureBaseImage } from '../stack/base-image.js';
import { DockerClient, LABEL } from '../stack/docker-client.js';
import { buildImageSet, imagesDir } from '../stack/images.js';
import { nodeOfId } from '../stack/engine.js';
import type { FaultContext } from './types.js';

const built = new Map<DockerClient, Promise<string>>();

/** The proxy image's tag on the engine of `hostId`, built when missing (tens of seconds, once per change of its context). */
export async function proxyImage(ctx: FaultContext, hostId: string, signal: AbortSignal): Promise<string> {
  const docker = ctx.docker;
  if (!(docker instanceof DockerClient) || nodeOfId(hostId) !== undefined) {
    throw new FaultlineError('INVALID_INPUT', 'the fault proxy runs on a compose stack: its image is not shipped to swarm nodes', {
      hint: 'use net-loss, net-partition or the process faults on a swarm',
    });
  }
  let tag = built.get(docker);
  if (!tag) {
    tag = (async () => {
      const base = await ensureBaseImage(docker, { signal });
      const set = { dir: imagesDir, names: ['proxy'] as const, repo: 'faultline', labels: () => ({ [LABEL.component]: 'image-proxy' }) };
      const tags = await buildImageSet(docker, base.image, set, { signal, onProgress: (e) => e.status === 'building' && ctx.log(`building ${e.tag}`) });
      return tags.proxy;
    })();
    built.set(docker, tag);
    tag.catch(() => built.delete(docker));
  }
  return tag;
}
