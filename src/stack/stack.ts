// The reference stack's lifecycle: a ReferenceStack is built and brought up into a AttachedStack, which
// describes itself (servers, addresses, endpoints, CA) and can be taken down again.

import { chmod, mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultlineError } from '../errors.js';
import { retryUntil } from '../util/retry.js';
import { request } from '../util/http.js';
import { COMPOSE_PROJECT, DockerClient, LABEL, type ContainerSummary } from './docker-client.js';
import { compose, requireCompose, detectCompose } from './compose.js';
import { referenceCompose } from './compose-model.js';
import { composeEnv, internalTlsDir, pickStackOptions, placeholderImages, resolveStackOptions, stateDir, type StackOptions } from './config.js';
import { PROFILES, REFERENCE_SPEC_FILES } from './profiles.js';
import { ensureDbSecrets, operatorLogin, removeDbSecrets, type DbLogin } from './secrets.js';
import { ensureBaseImage } from './base-image.js';
import { buildImages, type ImageTags, type BuildProgress } from './images.js';
import { ensureInternalTls, ensureStackTls, type StackTls } from './tls.js';
import { portFree } from './ports.js';
import { loadStackSpec, missingServices, roleOf, InvalidStackSpecError, type StackSpec } from './spec.js';
import { groupServers, isHelper, isReady, listWords, serverAddresses, staleNamespaceServices, webServersOf } from './servers.js';
import type { NamespaceUse, ServerStatus, StackStatus } from './servers.js';

export { groupServers, isHelper, isReady, listWords, serverAddresses, staleNamespaceServices, webServersOf } from './servers.js';
export type { ComponentStatus, NamespaceUse, ServerStatus, StackStatus } from './servers.js';

interface StackRecord {
  options: StackOptions;
  images: Partial<ImageTags>;
  startedAt: string;
}

export type Log = (line: string) => void;
const quiet: Log = () => undefined;

export class ReferenceStack {
  readonly options: StackOptions;
  readonly docker: DockerClient;

  constructor(options: Partial<StackOptions> = {}, docker = new DockerClient()) {
    this.options = resolveStackOptions(options);
    this.docker = docker;
  }

  get stateDir(): string {
    return stateDir(this.options);
  }

  /** Makes the base image if needed and builds the stack's images (only those whose context changed). */
  async build(options: { signal?: AbortSignal; log?: Log; onProgress?: BuildProgress } = {}): Promise<ImageTags> {
    await this.docker.ping(options.signal);
    const base = await ensureBaseImage(this.docker, { ...(options.signal ? { signal: options.signal } : {}), ...(options.log ? { log: options.log } : {}) });
    options.log?.(`base image: ${base.image} (${base.source})`);
    return buildImages(this.docker, base.image, {
      profile: this.options.profile,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }

  /**
   * Brings the stack up (idempotent) and waits until every container is healthy and the LB serves HTTPS
   * from every web server. If this call started it and it fails, everything it started is removed.
   */
  async up(options: { signal?: AbortSignal; log?: Log; timeoutMs?: number; onProgress?: BuildProgress } = {}): Promise<AttachedStack> {
    const log = options.log ?? quiet;
    const signal = options.signal;
    await this.docker.ping(signal);
    const flavour = await requireCompose();
    const before = await this.docker.listContainers({ [LABEL.stack]: this.options.project });
    await this.checkPorts(before);
    const images = await this.build({ ...(signal ? { signal } : {}), log, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    // The state folder holds the CA key, the database passwords and the stack's record: 0700 before any of
    // them is written, also when an older version (or `fault`) made it 0755.
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await chmod(this.stateDir, 0o700);
    const tls = await ensureStackTls(join(this.stateDir, 'tls'), this.options.project, this.options.domain);
    if (tls.renewed.ca)
      log(`made a new CA for ${this.options.project} (the old one: ${tls.renewed.ca}): import ${tls.caPath} again where you trusted the old one`);
    if (PROFILES[this.options.profile].internalTls) {
      const internal = await ensureInternalTls(internalTlsDir(this.options), tls, this.options.project, this.options.netPrefix);
      if (internal.renewed.length) log(`internal certificates made for ${internal.renewed.join(', ')}`);
    }
    const secrets = await ensureDbSecrets(this.stateDir);
    const record: StackRecord = { options: this.options, images, startedAt: new Date().toISOString() };
    await writeFile(join(this.stateDir, 'stack.json'), JSON.stringify(record, null, 2), { mode: 0o600 });
    await chmod(join(this.stateDir, 'stack.json'), 0o600);
    const env = composeEnv(this.options, images, tls.lbDir, secrets);
    const spec = await referenceSpec(this.options);
    const started = new AttachedStack(this.options, this.docker, tls, spec);
    try {
      log(`starting ${this.options.project} with ${flavour.argv.join(' ')} ${flavour.version}`);
      const run = { project: this.options.project, file: PROFILES[this.options.profile].composeFile, env, ...(signal ? { signal } : {}) };
      await compose(flavour, ['up', '-d', '--remove-orphans'], run);
      const stale = staleNamespaceServices(await this.namespaces());
      if (stale.length) {
        log(`recreating ${stale.join(', ')}: their server was recreated under them`);
        await compose(flavour, ['up', '-d', '--no-deps', '--force-recreate', ...stale], run);
      }
      if (tls.renewed.site) await this.restartLbOnto(before, log);
      await started.waitReady({ timeoutMs: options.timeoutMs ?? spec.ready_timeout, ...(signal ? { signal } : {}), log });
      return started;
    } catch (err) {
      if (before.length === 0) {
        log('start failed; removing what was started');
        await started.down().catch(() => undefined);
      }
      throw err instanceof FaultlineError ? err : new FaultlineError('STACK_FAILED', `stack did not come up: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Each container of the stack with its network mode, as staleNamespaceServices reads them. */
  private async namespaces(): Promise<NamespaceUse[]> {
    const list = (await this.docker.listContainers({ [LABEL.stack]: this.options.project })).filter((c) => !isHelper(c));
    return Promise.all(list.map(async (c) => ({ container: c, networkMode: (await this.docker.inspect(c.id)).networkMode })));
  }

  /**
   * A running LB installed its certificate when it started (lb-entrypoint): after a new one was made, the
   * haproxy containers that compose left running are restarted so that they serve it.
   */
  private async restartLbOnto(before: ContainerSummary[], log: Log): Promise<void> {
    const wasRunning = new Set(before.filter((c) => c.component === 'haproxy' && c.state === 'running').map((c) => c.id));
    const now = (await this.docker.listContainers({ [LABEL.stack]: this.options.project })).filter((c) => wasRunning.has(c.id) && c.state === 'running');
    for (const c of now) {
      log(`restarting ${c.service || c.name} onto the new certificate`);
      await this.docker.restart(c.id, 2);
    }
  }

  /** Fails before anything starts when a port the LB would publish is taken by something else. */
  private async checkPorts(existing: ContainerSummary[]): Promise<void> {
    const ours = new Set(existing.flatMap((c) => c.ports.map((p) => Number(/:(\d+)->/.exec(p)?.[1]))));
    for (const [name, port] of [
      ['https-port', this.options.httpsPort],
      ['http-port', this.options.httpPort],
    ] as const) {
      if (ours.has(port)) continue;
      if (!(await portFree(port))) {
        throw new FaultlineError('PORT_IN_USE', `port ${port} on 127.0.0.1 (${name}) is already in use`, {
          hint: `free it, or choose another with --${name}`,
        });
      }
    }
  }
}

export class AttachedStack {
  constructor(
    readonly options: StackOptions,
    readonly docker: DockerClient,
    readonly tls: Pick<StackTls, 'caPath' | 'dir'> & Partial<StackTls>,
    /** What faultline knows of the stack: the reference stack's own description, or the user's (--stack FILE). */
    readonly spec: StackSpec,
  ) {}

  /** True for the stack faultline builds and starts itself (either profile of the reference stack). */
  get isReference(): boolean {
    return REFERENCE_SPEC_FILES.includes(this.spec.file);
  }

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
  get addresses(): Record<string, string> {
    return serverAddresses(this.options.netPrefix, this.options.profile);
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
        hint: this.isReference ? 'start the stack with `faultline stack up` (it makes the CA)' : undefined,
      });
    }
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
    const [labelled, composed] = await Promise.all([
      this.docker.listContainers({ [LABEL.stack]: this.project }),
      this.docker.listContainers({ [COMPOSE_PROJECT]: this.project }),
    ]);
    const byId = new Map([...labelled, ...composed].map((c) => [c.id, c]));
    return withRoles([...byId.values()], this.spec);
  }

  /**
   * The image helpers run from (vantage points, network and resource faults): the stack's own host image,
   * found through a running host container, so it also works for a stack faultline did not start.
   */
  async helperImage(): Promise<string> {
    const hosts = (await this.containers()).filter((c) => c.host && c.state === 'running');
    const first = hosts.find((c) => c.component === 'host') ?? hosts[0];
    if (!first) throw new FaultlineError('STACK_FAILED', `stack ${this.project} has no running server; start it with \`faultline stack up\``);
    return (await this.docker.inspect(first.id)).image;
  }

  async servers(): Promise<ServerStatus[]> {
    return groupServers(await this.containers(), this.internalNetwork);
  }

  async status(): Promise<StackStatus> {
    return {
      project: this.project,
      ...(this.isReference ? { profile: this.options.profile } : {}),
      httpUrl: this.httpUrl,
      httpsUrl: this.httpsUrl,
      caPath: this.tls.caPath,
      domain: this.options.domain,
      netPrefix: this.options.netPrefix,
      edgePrefix: this.options.edgePrefix,
      stateDir: this.stateDir,
      servers: await this.servers(),
    };
  }

  /**
   * A described stack: the project must exist, and every service the description names must be in it (one line
   * per missing name, exit 2). Nothing is touched before this passes.
   */
  async checkDescription(options: { requireRunning?: boolean } = {}): Promise<void> {
    const list = (await this.containers()).filter((c) => !isHelper(c));
    // A project with no containers at all is down, not misdescribed (`revert` still works on it).
    if (list.length === 0) {
      if (!options.requireRunning) return;
      throw new FaultlineError('STACK_FAILED', `stack.project: no container of compose project "${this.project}" exists`, {
        hint: `start it (docker compose -p ${this.project} up -d), or fix project in ${this.spec.file}`,
      });
    }
    const problems = missingServices(this.spec, list.map((c) => c.service).filter(Boolean));
    if (problems.length) throw new InvalidStackSpecError(this.spec.file, problems);
  }

  /** Waits for every container to be running and healthy, then for HTTPS answers from all web servers. */
  async waitReady(options: { timeoutMs: number; signal?: AbortSignal; log?: Log }): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    if (!this.isReference) await this.checkDescription({ requireRunning: true });
    const expected = this.isReference
      ? await this.expectedServiceCount()
      : Math.max(1, new Set([...Object.keys(this.spec.services), ...(this.spec.required ?? [])]).size);
    let lastReport = '';
    const settled = await retryUntil(
      () => this.containers(),
      (list) => {
        const services = list.filter((c) => !isHelper(c));
        const ready = services.filter(isReady).length;
        const failed = services.filter((c) => c.state === 'exited' || c.state === 'dead' || c.health === 'unhealthy');
        if (failed.length) {
          throw new FaultlineError(
            'STACK_FAILED',
            `${failed.map((c) => `${c.service || c.name} is ${c.health === 'unhealthy' ? 'unhealthy' : c.state}`).join(', ')}`,
            {
              hint: `see \`faultline stack logs ${failed[0]?.service ?? ''}\``,
            },
          );
        }
        const report = `${ready}/${expected} containers ready`;
        if (report !== lastReport) options.log?.(report);
        lastReport = report;
        return services.length >= expected && ready === services.length;
      },
      { timeoutMs: options.timeoutMs, intervalMs: 500, what: 'every container to be healthy', ...(options.signal ? { signal: options.signal } : {}) },
    ).catch((err: unknown) => {
      throw err instanceof FaultlineError && err.code !== 'TIMEOUT' ? err : new FaultlineError('STACK_FAILED', (err as Error).message, { cause: err });
    });
    if (this.isReference) await this.waitServesEveryWeb(settled, deadline, options);
    else await this.waitEndpoint(deadline, options);
  }

  /** How a client verifies the endpoint: against the CA, or not at all when the description says insecure. */
  tlsOptions(ca: string | undefined): { ca?: string; insecure?: boolean; servername?: string } {
    const sni = this.spec.endpoint.sni;
    return { ...(ca ? { ca } : { insecure: true }), ...(sni ? { servername: sni } : {}) };
  }

  /** The reference stack: HTTPS answers from every web server through the LB (its /whoami names the server). */
  private async waitServesEveryWeb(settled: ContainerSummary[], deadline: number, options: { signal?: AbortSignal; log?: Log }): Promise<void> {
    const webs = webServersOf(settled);
    const ca = await this.ca();
    const seen = new Set<string>();
    await retryUntil(
      async () => {
        const res = await request(`${this.httpsUrl}/whoami`, {
          ...this.tlsOptions(ca),
          timeoutMs: 2000,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (res.status === 200) seen.add((JSON.parse(res.body) as { server: string }).server);
        return seen.size;
      },
      // A stack with no web label still has to answer once.
      () => (webs.length ? webs.every((w) => seen.has(w)) : seen.size > 0),
      {
        timeoutMs: Math.max(5000, deadline - Date.now()),
        intervalMs: 100,
        what: `HTTPS answers from every web server (${webs.join(', ')}) at ${this.httpsUrl}`,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    options.log?.(webs.length ? `load balancer serves HTTPS from ${listWords(webs)}` : 'load balancer serves HTTPS');
  }

  /** Any described stack: its endpoint answers the ready path with a 2xx. */
  private async waitEndpoint(deadline: number, options: { signal?: AbortSignal; log?: Log }): Promise<void> {
    const ca = await this.ca();
    const url = `${this.httpsUrl}${this.spec.endpoint.ready_path}`;
    await retryUntil(
      async () => (await request(url, { ...this.tlsOptions(ca), timeoutMs: 2000, ...(options.signal ? { signal: options.signal } : {}) })).status,
      (status) => status >= 200 && status < 300,
      {
        timeoutMs: Math.max(2000, deadline - Date.now()),
        intervalMs: 200,
        what: `a 2xx answer from ${url}`,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    ).catch((err: unknown) => {
      throw new FaultlineError('TARGET_UNREACHABLE', `stack.endpoint.url: ${url} did not answer with a 2xx: ${(err as Error).message}`, { cause: err });
    });
    options.log?.(`${this.httpsUrl} answers`);
  }

  /** One container per service of the compose file. */
  private async expectedServiceCount(): Promise<number> {
    return referenceCompose(this.options.profile).services.length;
  }

  /** Removes every container, network and volume of this stack (by compose, then by label) and nothing else. */
  /**
   * Removes the stack's containers, networks and volumes. `forget` is told the state folder and project once they are
   * gone (the CLI drops the fault records whose effect went with the stack; the stack layer knows nothing of faults).
   */
  async down(
    options: { signal?: AbortSignal; log?: Log; forget?: (stateDir: string, project: string) => Promise<string[]> } = {},
  ): Promise<{ containers: number; networks: number; volumes: number }> {
    const flavour = await detectCompose();
    const before = await this.containers();
    if (flavour && before.some((c) => c.labels['com.docker.compose.project'] === this.project)) {
      const env = composeEnv(this.options, placeholderImages(this.options), this.tls.dir);
      await compose(flavour, ['down', '-v', '--remove-orphans', '--timeout', '2'], {
        project: this.project,
        file: PROFILES[this.options.profile].composeFile,
        env,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
    // Anything left with the stack's label: helpers from faults and probes, a stack started without compose.
    const label = { [LABEL.stack]: this.project };
    const leftovers = await this.docker.listContainers(label);
    await Promise.all(leftovers.map((c) => this.docker.remove(c.id).catch(() => undefined)));
    const networks = await this.docker.listNetworks(label);
    for (const n of networks) await this.docker.removeNetwork(n.id).catch(() => undefined);
    const volumes = await this.docker.listVolumes(label);
    for (const v of volumes) await this.docker.removeVolume(v.name).catch(() => undefined);
    await rm(join(this.stateDir, 'stack.json'), { force: true });
    // The passwords went with the volumes; the next stack gets new ones.
    await removeDbSecrets(this.stateDir);
    const faults = (await options.forget?.(this.stateDir, this.project)) ?? [];
    if (faults.length) options.log?.(`dropped ${faults.length} fault record(s) whose effect went with the stack: ${faults.join(', ')}`);
    return { containers: before.length, networks: networks.length, volumes: volumes.length };
  }
}

/** The reference stack's own description (baseline profile), shipped beside its compose file. */
export const referenceSpecFile = PROFILES.baseline.specFile;

/** Fills role, server and component from the description where labels are missing, and marks each server's host (pure). */
export function withRoles(list: ContainerSummary[], spec: StackSpec | undefined): ContainerSummary[] {
  const mapped = list.map((c) => ({ ...c, ...roleOf(spec, c.service, c) }));
  const labelledHost = new Set(mapped.filter((c) => c.component === 'host' && c.server).map((c) => c.server));
  // A server without a host container (a service that is its own machine) is hosted by the container that owns
  // the network namespace: not one that joined another's (network_mode service:/container:).
  return mapped.map((c) => ({
    ...c,
    host: c.component === 'host' || (Boolean(c.server) && !labelledHost.has(c.server) && !c.networkMode.startsWith('container:') && !isHelper(c)),
  }));
}

/** The variables the reference description interpolates, from the stack's options. */
export function referenceVars(o: StackOptions): Record<string, string> {
  return {
    FAULTLINE_PROJECT: o.project,
    FAULTLINE_HTTPS_PORT: String(o.httpsPort),
    FAULTLINE_HTTP_PORT: String(o.httpPort),
    FAULTLINE_NET_PREFIX: o.netPrefix,
    FAULTLINE_EDGE_PREFIX: o.edgePrefix,
    FAULTLINE_DOMAIN: o.domain,
    FAULTLINE_STATE_DIR: stateDir(o),
    FAULTLINE_INTERNAL_TLS_DIR: internalTlsDir(o),
  };
}

export async function referenceSpec(o: StackOptions): Promise<StackSpec> {
  return loadStackSpec(PROFILES[o.profile].specFile, referenceVars(o));
}

export interface AttachOptions extends Partial<StackOptions> {
  /** A stack description file (a stack faultline did not start); without it, the reference stack's own. */
  stackFile?: string;
  /** An already-read description (an experiment's inline `stack:`). */
  spec?: StackSpec;
}

/**
 * Attaches to a running stack: the reference stack by its project (also one started elsewhere), or any stack
 * through its description. A description that names services its project lacks fails here, naming the field.
 */
export async function attachStack(partial: AttachOptions = {}, docker = new DockerClient()): Promise<AttachedStack> {
  const { stackFile, spec: given, ...rest } = partial;
  const described = given ?? (stackFile ? await loadStackSpec(stackFile) : undefined);
  if (described) {
    const options = resolveStackOptions({ ...rest, project: described.project });
    await docker.ping();
    const dir = join(stateDir(options), 'tls');
    const stack = new AttachedStack(options, docker, { dir, caPath: described.endpoint.ca ?? join(dir, 'ca.pem') }, described);
    await stack.checkDescription();
    return stack;
  }
  let options = resolveStackOptions(rest);
  try {
    const record = JSON.parse(await readFile(join(stateDir(options), 'stack.json'), 'utf8')) as { options: Record<string, unknown> };
    options = { ...options, ...pickStackOptions(record.options), ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) };
  } catch {
    // not started by faultline here: the defaults (or the caller's options) describe it
  }
  await docker.ping();
  const dir = join(stateDir(options), 'tls');
  return new AttachedStack(options, docker, { dir, caPath: join(dir, 'ca.pem') }, await referenceSpec(options));
}
