// dockerode's shapes in faultline's terms, and back: a container's inspect answer as a ContainerState, and the
// connection options for a DOCKER_HOST-style endpoint. Only the Docker client's parts (docker-*.ts) import this.

import type Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultlineError } from '../errors.js';
import type { ContainerState } from './docker-types.js';

export function toContainerState(info: Docker.ContainerInspectInfo): ContainerState {
  return {
    id: info.Id,
    name: (info.Name ?? info.Id).replace(/^\//, ''),
    image: info.Config?.Image ?? '',
    labels: info.Config?.Labels ?? {},
    status: info.State?.Status ?? 'unknown',
    running: Boolean(info.State?.Running),
    paused: Boolean(info.State?.Paused),
    health: info.State?.Health?.Status || 'none',
    ...healthOutput(info),
    startedAt: info.State?.StartedAt ?? '',
    exitCode: info.State?.ExitCode ?? 0,
    networkMode: info.HostConfig?.NetworkMode ?? '',
    pid: info.State?.Pid ?? 0,
    ...healthTest(info.Config?.Healthcheck?.Test),
  };
}

/** The health check as an exec command: ["CMD", …] as is, ["CMD-SHELL", s] through sh -c; none for NONE or no check. */
export function healthTest(test: string[] | undefined): { healthTest?: string[] } {
  const [kind, ...rest] = test ?? [];
  if (kind === 'CMD' && rest.length) return { healthTest: rest };
  if (kind === 'CMD-SHELL' && rest[0]) return { healthTest: ['/bin/sh', '-c', rest[0]] };
  return {};
}

function healthOutput(info: Docker.ContainerInspectInfo): { healthOutput?: string } {
  const last = info.State?.Health?.Log?.at(-1);
  const out = last && last.ExitCode !== 0 ? last.Output.trim().split('\n')[0] : undefined;
  return out ? { healthOutput: out } : {};
}

/** dockerode's connection options for a DOCKER_HOST-style endpoint (pure but for the TLS files it names). */
export function engineOptions(endpoint: string, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  const url = /^[a-z]+:\/\//.test(endpoint) ? new URL(endpoint) : undefined;
  if (!url || url.protocol === 'unix:') return { socketPath: url ? url.pathname : endpoint };
  if (url.protocol === 'ssh:')
    return { protocol: 'ssh', host: url.hostname, port: Number(url.port || 22), ...(url.username ? { username: url.username } : {}) } as Docker.DockerOptions;
  if (url.protocol !== 'tcp:') throw new FaultlineError('INVALID_INPUT', `${endpoint}: a Docker endpoint is unix://, tcp:// or ssh://`);
  const tls = Boolean(env.DOCKER_TLS_VERIFY) && env.DOCKER_TLS_VERIFY !== '0';
  const certs = env.DOCKER_CERT_PATH;
  return {
    host: url.hostname,
    port: Number(url.port || (tls ? 2376 : 2375)),
    protocol: tls ? 'https' : 'http',
    ...(tls && certs
      ? { ca: readFileSync(join(certs, 'ca.pem')), cert: readFileSync(join(certs, 'cert.pem')), key: readFileSync(join(certs, 'key.pem')) }
      : {}),
  };
}
