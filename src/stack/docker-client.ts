// The one Docker client: every Docker API call in faultline goes through here (nothing else imports dockerode).

import Docker from 'dockerode';
import { hostname } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { FaultlineError } from '../errors.js';
import { demuxBuffer, firstTarEntry, isNotFound, LABEL } from './docker-types.js';
import { DockerSwarm } from './docker-swarm.js';
import { DockerImages } from './docker-images.js';
import { engineOptions, toContainerState } from './docker-shapes.js';
import type { ContainerState, ContainerSummary, ExecResult, RunOptions } from './docker-types.js';

// The vocabulary lives in docker-types.ts (no dockerode there); callers keep importing it from here.
export { COMPOSE_PROJECT, demuxBuffer, firstTarEntry, isNotFound, LABEL } from './docker-types.js';
export type { ContainerState, ContainerSummary, ExecResult, RunOptions } from './docker-types.js';
export { engineOptions, toContainerState } from './docker-shapes.js';

/** Docker's answer to a removal of a container that is already being removed (e.g. by AutoRemove). */
function isRemovalInProgress(err: unknown): boolean {
  const e = err as { statusCode?: number; message?: string } | undefined;
  return e?.statusCode === 409 && /already in progress/i.test(e.message ?? '');
}

const DOCKER_HINT = 'start the engine (scripts/bootstrap.sh installs and starts it on Debian) or set DOCKER_HOST';

function labelFilters(labels: Record<string, string | undefined>): string[] {
  return Object.entries(labels).map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
}

export class DockerClient {
  /** dockerode itself: private, so that its shapes and errors stay in this module. */
  private readonly api: Docker;

  /** `api` only for tests, which hand in a stand-in for dockerode. */
  /** Images: present, pulled, built, imported (docker-images.ts). */
  readonly images: DockerImages;
  /** The swarm this engine belongs to, seen from it (docker-swarm.ts). */
  readonly swarm: DockerSwarm;

  constructor(api: Docker = new Docker()) {
    this.api = api;
    this.images = new DockerImages(api);
    this.swarm = new DockerSwarm(api);
  }

  /**
   * A client of the engine at `endpoint`, written as DOCKER_HOST is: unix:///path/docker.sock, tcp://host:port (TLS
   * from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set, as the docker CLI does) or ssh://user@host. How faultline
   * reaches each node of a swarm through that node's own engine.
   */
  static at(endpoint: string): DockerClient {
    return new DockerClient(new Docker(engineOptions(endpoint)));
  }

  /** Throws DOCKER_UNAVAILABLE with a fix hint when the engine does not answer. */
  async ping(signal?: AbortSignal): Promise<void> {
    try {
      await Promise.race([
        this.api.ping(),
        new Promise((_, reject) => {
          const s = AbortSignal.any([AbortSignal.timeout(5000), ...(signal ? [signal] : [])]);
          s.addEventListener('abort', () => reject(new Error('no answer within 5 s')), { once: true });
        }),
      ]);
    } catch (err) {
      throw new FaultlineError('DOCKER_UNAVAILABLE', `Docker engine not reachable: ${(err as Error).message}`, { cause: err, hint: DOCKER_HINT });
    }
  }

  async version(): Promise<{ version: string; apiVersion: string }> {
    const v = await this.api.version();
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  // ---- containers ----

  async listContainers(labels: Record<string, string | undefined>, all = true): Promise<ContainerSummary[]> {
    const list = await this.api.listContainers({ all, filters: { label: labelFilters(labels) } });
    return list.map((c) => {
      const l = c.Labels ?? {};
      const addresses: Record<string, string> = {};
      for (const [net, cfg] of Object.entries(c.NetworkSettings?.Networks ?? {})) if (cfg.IPAddress) addresses[net] = cfg.IPAddress;
      const healthMatch = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status ?? '');
      const health = healthMatch ? (healthMatch[1] === 'health: starting' ? 'starting' : healthMatch[1]!) : 'none';
      return {
        id: c.Id,
        name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
        service: l['com.docker.compose.service'] ?? '',
        stack: l[LABEL.stack],
        role: l[LABEL.role],
        server: l[LABEL.server],
        component: l[LABEL.component],
        state: c.State,
        health,
        labels: l,
        addresses,
        ports: (c.Ports ?? []).filter((p) => p.PublicPort).map((p) => `${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`),
        networkMode: c.HostConfig?.NetworkMode ?? '',
        host: l[LABEL.component] === 'host',
      };
    });
  }

  /** The container's state; rejects when it does not exist (isNotFound) or Docker fails. */
  async inspect(id: string): Promise<ContainerState> {
    return toContainerState(await this.api.getContainer(id).inspect());
  }

  /** The container's state, or undefined when there is no such container; other failures reject. */
  async findContainer(id: string): Promise<ContainerState | undefined> {
    try {
      return await this.inspect(id);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.api.getContainer(id).kill({ signal });
  }
  async stop(id: string, timeoutS = 10): Promise<void> {
    await this.api.getContainer(id).stop({ t: timeoutS });
  }
  async start(id: string): Promise<void> {
    await this.api.getContainer(id).start();
  }
  async restart(id: string, timeoutS = 10): Promise<void> {
    await this.api.getContainer(id).restart({ t: timeoutS });
  }
  async pause(id: string): Promise<void> {
    await this.api.getContainer(id).pause();
  }
  async unpause(id: string): Promise<void> {
    await this.api.getContainer(id).unpause();
  }
  /** Force-removes a container with its anonymous volumes; one that is gone, or going, is fine. */
  async remove(id: string): Promise<void> {
    try {
      await this.api.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (!isNotFound(err) && !isRemovalInProgress(err)) throw err;
    }
  }

  /**
   * Reads one file out of a container with the archive API, which works whatever the container's state
   * (stopped, paused); undefined when the container or the file does not exist.
   */
  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.api.getContainer(id).getArchive({ path });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    return firstTarEntry(Buffer.concat(chunks));
  }

  /** Runs a command inside a running container and collects its output. */
  async exec(id: string, cmd: string[], options: { signal?: AbortSignal; stdin?: string; user?: string; env?: string[] } = {}): Promise<ExecResult> {
    const container = this.api.getContainer(id);
    const exec = await container.exec({
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: options.stdin !== undefined,
      ...(options.user ? { User: options.user } : {}),
      ...(options.env?.length ? { Env: options.env } : {}),
    });
    const stream = await exec.start({ hijack: true, stdin: options.stdin !== undefined });
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
    out.on('data', (c: Buffer) => chunks.out.push(c));
    err.on('data', (c: Buffer) => chunks.err.push(c));
    this.api.modem.demuxStream(stream, out, err);
    if (options.stdin !== undefined) {
      stream.write(options.stdin);
      (stream as unknown as { end(): void }).end();
    }
    const onAbort = () => stream.destroy(options.signal?.reason ?? new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        if (options.signal?.aborted) onAbort();
        stream.on('end', () => resolve());
        stream.on('close', () => (options.signal?.aborted ? reject(options.signal.reason) : resolve()));
        stream.on('error', reject);
      });
    } finally {
      // A long-lived signal (a whole experiment's) sees thousands of execs: do not leave a listener per exec.
      options.signal?.removeEventListener('abort', onAbort);
    }
    const info = await exec.inspect();
    return {
      exitCode: info.ExitCode ?? -1,
      stdout: Buffer.concat(chunks.out).toString('utf8'),
      stderr: Buffer.concat(chunks.err).toString('utf8'),
    };
  }

  /** Copies a tar archive into a container (used to swap certificates and configuration). */
  async putArchive(id: string, path: string, tarball: Buffer | Readable): Promise<void> {
    await this.api.getContainer(id).putArchive(tarball, { path });
  }

  async logs(id: string, tail = 200): Promise<string> {
    const buf = (await this.api.getContainer(id).logs({ stdout: true, stderr: true, tail, timestamps: true })) as unknown as Buffer;
    return demuxBuffer(buf);
  }

  /**
   * Starts a short-lived helper container and returns its id; it is labelled so that leftovers can be
   * found and removed even if faultline dies.
   */
  async runDetached(options: RunOptions): Promise<string> {
    const container = await this.create(options);
    await container.start();
    return container.id;
  }

  /**
   * Every container faultline starts carries the helper and holder labels and removes itself when it exits,
   * so nothing it started outlives its purpose, also when faultline was killed.
   */
  private create(options: RunOptions): Promise<Docker.Container> {
    return this.api.createContainer({
      Image: options.image,
      Cmd: options.cmd,
      ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
      Labels: { ...options.labels, [LABEL.helper]: options.helper ?? 'helper', [LABEL.holder]: `${process.pid} ${hostname()}` },
      ...(options.name ? { name: options.name } : {}),
      Env: options.env ?? [],
      HostConfig: {
        NetworkMode: options.networkMode,
        CapAdd: options.capAdd ?? [],
        AutoRemove: true,
        Init: true,
        ...(options.binds ? { Binds: options.binds } : {}),
      },
    });
  }

  /**
   * Follows a container's output from its start until a line matches (resolves with that line); rejects
   * when the container exits first (with its output), on timeout, or on abort. Used to learn, without
   * polling, that a helper has applied its fault.
   */
  async waitForOutput(id: string, pattern: RegExp, options: { timeoutMs: number; signal?: AbortSignal }): Promise<string> {
    const stream = (await this.api.getContainer(id).logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
    const out = new PassThrough();
    let text = '';
    this.api.modem.demuxStream(stream, out, out);
    const deadline = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);
    try {
      return await new Promise<string>((resolve, reject) => {
        const onAbort = () =>
          reject(
            options.signal?.aborted
              ? options.signal.reason
              : new FaultlineError('TIMEOUT', `no "${pattern.source}" from ${id.slice(0, 12)} within ${options.timeoutMs} ms: ${text.trim().slice(-500)}`),
          );
        deadline.addEventListener('abort', onAbort, { once: true });
        out.on('data', (c: Buffer) => {
          text += c.toString('utf8');
          const line = text.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) resolve(line);
        });
        stream.on('end', () => reject(new Error(`exited before "${pattern.source}": ${text.trim().slice(-500)}`)));
        stream.on('error', reject);
      });
    } finally {
      stream.destroy();
    }
  }

  /**
   * Runs a helper to completion and returns its output. The container removes itself on exit (so output is
   * read from an attach made before it starts), and is removed here too when the caller aborts or fails.
   */
  async runToCompletion(options: RunOptions, signal?: AbortSignal): Promise<ExecResult> {
    const container = await this.create(options);
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
    out.on('data', (c: Buffer) => chunks.out.push(c));
    err.on('data', (c: Buffer) => chunks.err.push(c));
    const removeNow = () => void container.remove({ force: true }).catch(() => undefined);
    try {
      const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
      this.api.modem.demuxStream(stream, out, err);
      const ended = new Promise<void>((resolve) => {
        stream.on('end', () => resolve());
        stream.on('close', () => resolve());
        stream.on('error', () => resolve());
      });
      // Waiting for the next exit before starting: an auto-removed container cannot be waited on afterwards.
      const exited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
      signal?.addEventListener('abort', removeNow, { once: true });
      await container.start();
      const result = await exited;
      await ended;
      // The container removes itself on exit; callers (and the next `stack up`) must not see it going. Bounded.
      await Promise.race([
        (container.wait({ condition: 'removed' }) as Promise<unknown>).catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
      ]);
      return { exitCode: result.StatusCode, stdout: Buffer.concat(chunks.out).toString('utf8'), stderr: Buffer.concat(chunks.err).toString('utf8') };
    } catch (e) {
      removeNow();
      throw e;
    } finally {
      signal?.removeEventListener('abort', removeNow);
    }
  }

  // ---- networks and volumes ----

  async listNetworks(labels: Record<string, string>): Promise<Array<{ id: string; name: string; subnet: string | undefined }>> {
    const nets = await this.api.listNetworks({ filters: { label: labelFilters(labels) } });
    return nets.map((n) => ({ id: n.Id, name: n.Name, subnet: n.IPAM?.Config?.[0]?.Subnet }));
  }

  async listVolumes(labels: Record<string, string>): Promise<Array<{ name: string }>> {
    const res = await this.api.listVolumes({ filters: { label: labelFilters(labels) } });
    return (res.Volumes ?? []).map((v) => ({ name: v.Name }));
  }

  async removeNetwork(id: string): Promise<void> {
    await this.api.getNetwork(id).remove();
  }
  async removeVolume(name: string): Promise<void> {
    await this.api.getVolume(name).remove({ force: true });
  }
}
