// A live stack faultline works on, whoever started it: its containers (by compose project or faultline.stack label,
// roles from labels or the description), its endpoint, CA and TLS options, its status, and readiness. Everything that
// differs between stacks comes from its description (`spec`); nothing here asks whether faultline started it.

import { readFile } from 'node:fs/promises';
import { FaultlineError } from '../errors.js';
import type { ContainerSummary } from './docker-client.js';
import { nodeOfId, type ContainerEngine } from './engine.js';
import { stateDir, type StackOptions } from './config.js';
import type { ProfileName } from './profiles.js';
import { operatorLogin, type DbLogin } from './secrets.js';
import type { StackTls } from './stack-ca.js';
import { endpointTls } from './endpoint-tls.js';
import { invalidStackSpec, missingServices, type StackSpec } from './spec.js';
import { groupServers, isHelper, serverAddresses } from './servers.js';
import type { ServerStatus, StackStatus } from './servers.js';
import { listStackContainers } from './stack-containers.js';
import { waitContainers, waitEachServer, waitEndpoint, type Log } from './ready.js';

export type { Log } from './ready.js';
export { withRoles } from './stack-containers.js';

export class AttachedStack {
  constructor(
    readonly options: StackOptions,
    /** The container engine: Docker's for a compose stack, the swarm's (a task's calls go to its node) for a swarm stack. */
    readonly docker: ContainerEngine,
    readonly tls: Pick<StackTls, 'caPath' | 'dir'> & Partial<StackTls>,
    /** What faultline knows of the stack: the reference stack's own description, or the user's (--stack FILE). */
    readonly spec: StackSpec,
    /** The reference profile, for a stack faultline starts and stops itself; undefined for a user's stack. */
    readonly profile?: ProfileName,
  ) {}

  get project(): string {
    return this.options.project;
  }
  /** The public endpoint's URL, without a trailing slash. */
  get httpsUrl(): string {
    return this.spec.endpoint.url.replace(/\/+$/, '');
  }
  /** The plain-HTTP entry; the HTTPS URL when the description declares none. */
  get httpUrl(): string {
    return (this.spec.endpoint.http_url ?? this.spec.endpoint.url).replace(/\/+$/, '');
  }
  get stateDir(): string {
    return stateDir(this.options);
  }
  get internalNetwork(): string {
    return this.spec.exposure.networks.internal ?? `${this.project}_internal`;
  }
  get edgeNetwork(): string {
    return this.spec.exposure.networks.edge ?? `${this.project}_edge`;
  }
  /** The reference layout's fixed addresses by server (empty for a user's stack: its containers say). */
  get addresses(): Record<string, string> {
    return this.profile ? serverAddresses(this.options.netPrefix, this.profile) : {};
  }

  /** The PEM the endpoint's certificate is verified against; undefined when the description says insecure. */
  async ca(): Promise<string | undefined> {
    const path = this.spec.endpoint.ca;
    if (!path) return undefined;
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new FaultlineError('INVALID_INPUT', `stack.endpoint.ca: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        cause: err,
        hint: this.profile ? 'start the stack with `faultline stack up` (it makes the CA)' : undefined,
      });
    }
  }

  /** How a client verifies the endpoint: against the CA, or not at all when the description says insecure. */
  tlsOptions(ca: string | undefined): { ca?: string; insecure?: true; servername?: string } {
    return endpointTls(this.httpsUrl, this.spec.endpoint, ca);
  }

  /** The operator's MariaDB login (admitted from the Docker host only), from the 0700 state folder. */
  async dbOperator(): Promise<DbLogin> {
    return operatorLogin(this.stateDir);
  }

  /**
   * The stack's containers: those of its compose project and those labelled faultline.stack=<project> (what
   * faultline itself started for it), with role, server and component from their labels or the description.
   */
  async containers(): Promise<ContainerSummary[]> {
    return listStackContainers(this.docker, this.project, this.spec);
  }

  /**
   * The image helpers run from (vantage points, network and resource faults): the stack's own host image,
   * found through a running host container, so it also works for a stack faultline did not start. On a swarm, a
   * helper `near` a task runs on that task's node: the task's own image, which that node has, comes first.
   */
  async helperImage(near?: string): Promise<string> {
    const all = (await this.containers()).filter((c) => c.host && c.state === 'running');
    const node = near === undefined ? undefined : nodeOfId(near);
    const hosts = node === undefined ? all : [...all.filter((c) => c.id === near), ...all.filter((c) => c.id !== near && nodeOfId(c.id) === node)];
    const first = hosts.find((c) => c.component === 'host') ?? hosts[0] ?? all[0];
    if (!first) throw new FaultlineError('STACK_FAILED', `stack ${this.project} has no running server; start it with \`faultline stack up\``);
    return (await this.docker.inspect(first.id)).image;
  }

  async servers(): Promise<ServerStatus[]> {
    return groupServers(await this.containers(), this.internalNetwork);
  }

  async status(): Promise<StackStatus> {
    return {
      project: this.project,
      ...(this.profile ? { profile: this.profile } : {}),
      httpUrl: this.httpUrl,
      httpsUrl: this.httpsUrl,
      caPath: this.tls.caPath,
      domain: this.options.domain,
      netPrefix: this.options.netPrefix,
      edgePrefix: this.options.edgePrefix,
      stateDir: this.stateDir,
      servers: await this.withHealthDetail(await this.servers()),
    };
  }

  /** A component not healthy yet gets its health check's last words (a Galera node says what it waits for). */
  private async withHealthDetail(servers: ServerStatus[]): Promise<ServerStatus[]> {
    const waiting = servers.flatMap((s) => s.components).filter((c) => c.health === 'starting' || c.health === 'unhealthy');
    await Promise.all(
      waiting.map(async (c) => {
        const out = (await this.docker.inspect(c.id).catch(() => undefined))?.healthOutput;
        if (out) c.detail = out;
      }),
    );
    return servers;
  }

  /**
   * The project must exist, and every service the description names must be in it (one line per missing name,
   * exit 2). Nothing is touched before this passes.
   */
  async checkDescription(options: { requireRunning?: boolean } = {}): Promise<void> {
    const list = (await this.containers()).filter((c) => !isHelper(c));
    // A project with no containers at all is down, not misdescribed (`revert` still works on it).
    if (list.length === 0) {
      if (!options.requireRunning) return;
      const swarm = this.spec.kind === 'swarm';
      throw new FaultlineError(
        'STACK_FAILED',
        `stack.project: no ${swarm ? 'running task of swarm stack' : 'container of compose project'} "${this.project}" exists`,
        {
          hint: this.profile
            ? 'start it with `faultline stack up`'
            : `start it (${swarm ? `docker stack deploy -c <file> ${this.project}` : `docker compose -p ${this.project} up -d`}), or fix project in ${this.spec.file}`,
        },
      );
    }
    const problems = missingServices(this.spec, list.map((c) => c.service).filter(Boolean));
    if (problems.length) throw invalidStackSpec(this.spec.file, problems);
  }

  /**
   * Waits until the stack serves: its containers running and healthy (at least `expectedContainers`, when the caller
   * knows how many there must be), then the endpoint's ready path — from each server of a role when the description
   * asks for it (`endpoint.ready_each`).
   */
  async waitReady(options: { timeoutMs: number; signal?: AbortSignal; log?: Log; expectedContainers?: number }): Promise<void> {
    const wait = {
      deadline: Date.now() + options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.log ? { log: options.log } : {}),
    };
    await this.checkDescription({ requireRunning: true });
    const { docker, project, spec } = this;
    const declared = new Set([...Object.keys(spec.services), ...(spec.required ?? [])]).size;
    const settled = await waitContainers(() => listStackContainers(docker, project, spec), Math.max(1, options.expectedContainers ?? declared), wait);
    const endpoint = { url: `${this.httpsUrl}${spec.endpoint.ready_path}`, tls: endpointTls(this.httpsUrl, spec.endpoint, await this.ca()) };
    const each = spec.endpoint.ready_each;
    if (!each) return waitEndpoint(endpoint, wait);
    const servers = [...new Set(settled.filter((c) => c.role === each.role && c.server && !isHelper(c)).map((c) => c.server!))].sort();
    await waitEachServer(endpoint, servers, each.field, wait);
  }
}
