// `faultline doctor`: checks what the stack needs, each finding with a fix hint. Checks are data; printing is pure.

import { access } from 'node:fs/promises';
import { DockerClient, LABEL } from './docker-client.js';
import { detectCompose } from './compose.js';
import { findBaseImage, UPSTREAM_BASE } from './base-image.js';
import { IMAGE_NAMES, contextTag } from './images.js';
import { portFree } from './ports.js';
import type { StackOptions } from './config.js';

export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  hint?: string;
}

async function onPath(cmd: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (
      await access(`${dir}/${cmd}`).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

export async function runDoctor(options: StackOptions, docker = new DockerClient()): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  checks.push(
    major > 20 || (major === 20 && minor >= 19)
      ? { name: 'node', status: 'ok', detail: `Node ${process.versions.node}` }
      : { name: 'node', status: 'fail', detail: `Node ${process.versions.node} is too old`, hint: 'install Node 20.19 or newer' },
  );

  let engine = false;
  try {
    await docker.ping();
    const v = await docker.version();
    engine = true;
    checks.push({ name: 'docker engine', status: 'ok', detail: `Docker ${v.version} (API ${v.apiVersion})` });
  } catch (err) {
    checks.push({ name: 'docker engine', status: 'fail', detail: (err as Error).message, hint: 'run scripts/bootstrap.sh (Debian, as root) or start dockerd' });
  }

  const flavour = await detectCompose();
  checks.push(
    flavour
      ? { name: 'compose', status: 'ok', detail: `${flavour.argv.join(' ')} ${flavour.version} (${flavour.label})` }
      : { name: 'compose', status: 'fail', detail: 'neither `docker compose` nor `docker-compose` found', hint: 'apt-get install -y docker-compose' },
  );

  if (engine) {
    const base = await findBaseImage(docker);
    if (base) {
      checks.push({ name: 'base image', status: 'ok', detail: `${base.image} (${base.source})` });
      const ids = (await docker.images.id(base.image)) ?? base.image;
      const tags = await Promise.all(IMAGE_NAMES.map((n) => contextTag(n, ids)));
      const present = await Promise.all(tags.map((t) => docker.images.exists(t.tag)));
      const missing = IMAGE_NAMES.filter((_, i) => !present[i]);
      checks.push(
        missing.length
          ? { name: 'stack images', status: 'warn', detail: `not built yet: ${missing.join(', ')}`, hint: 'faultline stack build (stack up builds them too)' }
          : { name: 'stack images', status: 'ok', detail: `all ${IMAGE_NAMES.length} built and up to date` },
      );
    } else {
      const canMake = (await onPath('debootstrap')) && process.getuid?.() === 0;
      checks.push({
        name: 'base image',
        status: canMake ? 'warn' : 'fail',
        detail: `${UPSTREAM_BASE} not present${canMake ? '; it will be made with debootstrap on first build' : ''}`,
        hint: canMake
          ? 'faultline stack build'
          : 'apt-get install -y debootstrap and run as root, or docker pull debian:bookworm-slim, or set FAULTLINE_BASE_IMAGE',
      });
    }
  }

  const ours = engine ? await docker.listContainers({ [LABEL.stack]: options.project }) : [];
  const published = new Set(ours.flatMap((c) => c.ports.map((p) => Number(/:(\d+)->/.exec(p)?.[1]))));
  for (const [name, port] of [
    ['http-port', options.httpPort],
    ['https-port', options.httpsPort],
  ] as const) {
    if (published.has(port)) checks.push({ name: `port ${port}`, status: 'ok', detail: `published by stack ${options.project}` });
    else if (await portFree(port)) checks.push({ name: `port ${port}`, status: 'ok', detail: 'free' });
    else checks.push({ name: `port ${port}`, status: 'fail', detail: 'in use by another program', hint: `free it or pass --${name}` });
  }
  if (engine) {
    const running = ours.filter((c) => c.state === 'running').length;
    checks.push({
      name: 'stack',
      status: 'ok',
      detail: ours.length ? `${options.project}: ${running}/${ours.length} containers running` : `${options.project}: not running`,
    });
  }
  return checks;
}

export function formatDoctor(checks: DoctorCheck[]): string {
  const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;
  return checks.map((c) => `${mark[c.status]}  ${c.name.padEnd(14)} ${c.detail}${c.hint && c.status !== 'ok' ? `\n      fix: ${c.hint}` : ''}`).join('\n');
}
