// The load agent's image, faultline/agent:<hash>: the base image, the Node binary faultline runs on (Debian 12's nodejs
// is 18; faultline needs ≥ 20.19), the built load engine (dist/load, dist/util, dist/errors.js) and only the packages
// it imports, with their own dependencies. The tag hashes every file of that context, so it is built once per change.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { FaultlineError } from '../errors.js';
import { ensureBaseImage } from '../stack/base-image.js';
import { LABEL, type DockerClient } from '../stack/docker-client.js';

/** The packages the load engine imports (src/load, src/util); their dependencies are found from their package.json. */
export const AGENT_PACKAGES = ['autocannon', 'undici', 'hdr-histogram-js', 'zod', 'yaml'];

const DOCKERFILE = `ARG BASE_IMAGE
FROM \${BASE_IMAGE}
COPY app /app
USER 65534
ENTRYPOINT ["/app/node", "/app/dist/load/agents-entry.js"]
`;

/** faultline's package root: two folders up from this module, whether it runs built (dist/swarm) or from source. */
export const packageRoot = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
  return out.sort();
}

/** The packages to copy: `roots` and every dependency they reach, as folders under node_modules. */
export async function packageClosure(modules: string, roots: string[]): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [...roots];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    const pkg = join(modules, name, 'package.json');
    if (!existsSync(pkg)) continue; // an optional dependency that is not installed
    seen.add(name);
    const json = JSON.parse(await readFile(pkg, 'utf8')) as { dependencies?: Record<string, string> };
    queue.push(...Object.keys(json.dependencies ?? {}));
  }
  return [...seen].sort();
}

/** The context's files: [path in the context, path on this machine]. */
async function contextFiles(root: string): Promise<Array<[string, string]>> {
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'load', 'agents-entry.js')))
    throw new FaultlineError('INVALID_INPUT', `agents: ${dist}/load/agents-entry.js is missing: build faultline first (npm run build)`);
  const files: Array<[string, string]> = [['app/node', process.execPath]];
  for (const sub of ['load', 'util']) for (const f of await listFiles(join(dist, sub))) if (f.endsWith('.js')) files.push([join('app', relative(root, f)), f]);
  files.push(['app/dist/errors.js', join(dist, 'errors.js')]);
  const modules = join(root, 'node_modules');
  for (const name of await packageClosure(modules, AGENT_PACKAGES))
    for (const f of await listFiles(join(modules, name)))
      if (!f.endsWith('.map') && !f.endsWith('.d.ts') && !f.endsWith('.md')) files.push([join('app', relative(root, f)), f]);
  return files;
}

/**
 * Builds the agent image unless its tag exists; answers the tag. The context is staged as symbolic links that tar
 * follows, so nothing is copied but into the build.
 */
export async function buildAgentImage(docker: DockerClient, options: { signal?: AbortSignal; log?: (line: string) => void } = {}): Promise<string> {
  const base = await ensureBaseImage(docker, options);
  const baseId = (await docker.images.id(base.image)) ?? base.image;
  const files = await contextFiles(packageRoot());
  const h = createHash('sha256').update(`base:${baseId}\n${DOCKERFILE}`);
  for (const [at, from] of files)
    h.update(`${at}\n`)
      .update(await readFile(from))
      .update('\n');
  const tag = `faultline/agent:${h.digest('hex').slice(0, 12)}`;
  if (await docker.images.exists(tag)) return tag;
  options.log?.(`building ${tag} (${files.length} files)`);
  const dir = await mkdtemp(join(tmpdir(), 'faultline-agent-'));
  try {
    await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
    for (const [at, from] of files) {
      await mkdir(dirname(join(dir, at)), { recursive: true });
      await symlink(from, join(dir, at));
    }
    await mkdir(join(dir, 'app'), { recursive: true });
    await writeFile(join(dir, 'app', 'package.json'), '{"type":"module"}\n');
    const context = tar.c({ cwd: dir, portable: true, follow: true }, ['Dockerfile', 'app']);
    await docker.images.build(context as unknown as NodeJS.ReadableStream as never, tag, { BASE_IMAGE: base.image }, { [LABEL.component]: 'image-agent' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return tag;
}
