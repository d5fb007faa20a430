// Stack timings: cold build (fresh base image, no cached layers), warm `stack up` until healthy, `stack down`.
// Each figure is printed with its ratio against a reference measured in the same run:
//   cold build  vs. `docker build --no-cache` of the same Dockerfiles, one after another (docker CLI)
//   warm up     vs. bare `docker-compose up -d` of the same file (no health wait, no HTTPS check)
//   down        vs. bare `docker-compose down -v`
// Run: node --import=tsx bench/stack.ts   (uses its own project "flbench"; the shared stack is not touched)

import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DockerClient } from '../src/stack/docker-client.js';
import { ensureBaseImage, LOCAL_BASE } from '../src/stack/base-image.js';
import { buildImages, IMAGE_NAMES, imagesDir, type ImageTags } from '../src/stack/images.js';
import { ReferenceStack } from '../src/stack/reference-stack.js';
import { composeEnv, composeFile } from '../src/stack/config.js';
import { detectCompose } from '../src/stack/compose.js';

const docker = new DockerClient();
const env = {
  FAULTLINE_PROJECT: 'flbench',
  FAULTLINE_HTTP_PORT: '19080',
  FAULTLINE_HTTPS_PORT: '19443',
  FAULTLINE_NET_PREFIX: '10.217.7',
  FAULTLINE_EDGE_PREFIX: '10.217.8',
};
Object.assign(process.env, env);

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

const rows: Array<[string, number, string, number]> = [];

// --- cold build: a fresh debootstrap base under its own tag, so no layer of the stack images is cached.
const benchBase = 'faultline/base:bench';
spawnSync('docker', ['rmi', '-f', benchBase], { stdio: 'ignore' });
const hadLocal = await docker.images.exists(LOCAL_BASE);
if (hadLocal) execFileSync('docker', ['tag', LOCAL_BASE, 'faultline/base:bench-keep']);
spawnSync('docker', ['rmi', LOCAL_BASE], { stdio: 'ignore' });
const [, baseMs] = await time(() => ensureBaseImage(docker, { log: (l) => console.error(l) }));
execFileSync('docker', ['tag', LOCAL_BASE, benchBase]);
if (hadLocal) {
  execFileSync('docker', ['tag', 'faultline/base:bench-keep', LOCAL_BASE]);
  spawnSync('docker', ['rmi', 'faultline/base:bench-keep'], { stdio: 'ignore' });
}
const [benchTags, buildMs] = await time(() => buildImages(docker, benchBase));
// Reference: the docker CLI building the same contexts from the same base, sequentially, without cache.
const [, cliMs] = await time(async () => {
  for (const name of IMAGE_NAMES) {
    execFileSync('docker', ['build', '-q', '--no-cache', '--build-arg', `BASE_IMAGE=${benchBase}`, '-t', `flbench-ref/${name}`, join(imagesDir, name)], {
      stdio: 'ignore',
    });
  }
});
rows.push(['base image (debootstrap + import)', baseMs, '-', 0]);
rows.push(['cold build, 6 images', buildMs, 'docker build --no-cache ×6', cliMs]);
rows.push(['cold total (base + images)', baseMs + buildMs, 'docker build --no-cache ×6', cliMs]);
for (const name of IMAGE_NAMES)
  spawnSync('docker', ['rmi', '-f', `flbench-ref/${name}`, (benchTags as ImageTags)[name] ?? `flbench-ref/${name}`], { stdio: 'ignore' });
spawnSync('docker', ['rmi', '-f', benchBase], { stdio: 'ignore' });

// --- warm up / down (images present), median of 3.
const stack = new ReferenceStack();
const flavour = (await detectCompose())!;
const images = await stack.build();
const cenv = { ...process.env, ...composeEnv(stack.options, images, join(stack.stateDir, 'tls', 'lb')) };
const ups: number[] = [];
const downs: number[] = [];
const refUps: number[] = [];
const refDowns: number[] = [];
for (let i = 0; i < 3; i++) {
  const [, upMs] = await time(() => stack.up());
  ups.push(upMs);
  const [, downMs] = await time(() => stack.down());
  downs.push(downMs);
  const argv = [...flavour.argv.slice(1), '-p', 'flbench', '-f', composeFile];
  const [, refUp] = await time(async () => execFileSync(flavour.argv[0]!, [...argv, 'up', '-d'], { env: cenv, stdio: 'ignore' }));
  const [, refDown] = await time(async () => execFileSync(flavour.argv[0]!, [...argv, 'down', '-v', '--timeout', '2'], { env: cenv, stdio: 'ignore' }));
  refUps.push(refUp);
  refDowns.push(refDown);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
rows.push(['warm stack up (until healthy + HTTPS)', median(ups), 'docker-compose up -d (no wait)', median(refUps)]);
rows.push(['stack down', median(downs), 'docker-compose down -v', median(refDowns)]);

console.log('\nfaultline stack timings (2 cores; medians of 3 for up/down)\n');
console.log(`${'figure'.padEnd(40)} ${'faultline'.padStart(10)}  ${'reference'.padEnd(32)} ${'ref'.padStart(8)}  ratio`);
for (const [name, ms, ref, refMs] of rows) {
  console.log(
    `${name.padEnd(40)} ${s(ms).padStart(10)}  ${ref.padEnd(32)} ${(refMs ? s(refMs) : '-').padStart(8)}  ${refMs ? `${(ms / refMs).toFixed(2)}×` : '-'}`,
  );
}
console.log(`\ngoals: warm up < 30 s (${median(ups) < 30_000 ? 'met' : 'MISSED'}), cold build < 4 min (${baseMs + buildMs < 240_000 ? 'met' : 'MISSED'})`);
