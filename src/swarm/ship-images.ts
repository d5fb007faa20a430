// Images reach a swarm's workers without a registry: each image the manager has is streamed from its engine into
// every worker's engine that lacks it (`docker save | docker load`, through the API), so a deploy finds them on any
// node. A user's swarm with a registry needs none of this; faultline does it only for nodes whose engine it knows.

import { DockerClient } from '../stack/docker-client.js';

export interface ShipOptions {
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** Copies each of `tags` from `from` into every engine of `engines` (node → endpoint) that does not have it yet. */
export async function shipImages(from: DockerClient, engines: Record<string, string>, tags: string[], options: ShipOptions = {}): Promise<string[]> {
  const shipped: string[] = [];
  for (const [node, endpoint] of Object.entries(engines)) {
    const to = DockerClient.at(endpoint);
    for (const tag of tags) {
      options.signal?.throwIfAborted();
      if (await to.images.exists(tag)) continue;
      const started = Date.now();
      await to.images.load(await from.images.save(tag));
      options.log?.(`image ${tag} → ${node} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      shipped.push(`${node}:${tag}`);
    }
  }
  return shipped;
}
