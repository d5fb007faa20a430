// The reference stack's lifecycle, which only a stack faultline started has: build its images, bring it up (idempotent,
// removing what it started when that fails), show its logs, take it down. What it brings up is an AttachedStack like
// any other, described by the profile's own description file.

import { chmod, mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultlineError } from '../errors.js';
import { DockerClient, LABEL, type ContainerSummary } from './docker-client.js';
import { compose, requireCompose, detectCompose } from './compose.js';
import { referenceCompose } from './compose-model.js';
import { addressVars, composeEnv, internalTlsDir, pickStackOptions, placeholderImages, resolveStackOptions, stateDir, type StackOptions } from './config.js';
import { PROFILES } from './profiles.js';
import { ensureDbSecrets, removeDbSecrets } from './secrets.js';
import { ensureBaseImage } from './base-image.js';
import { buildImages, type ImageTags, type BuildProgress } from './images.js';
import { ensureStackTls } from './stack-ca.js';
import { ensureInternalTls } from './internal-tls.js';
import { portFree } from './ports.js';
import { loadStackSpec, type StackSpec } from './spec.js';
import { isHelper, staleNamespaceServices, type NamespaceUse } from './servers.js';
import { AttachedStack, type Log } from './attached-stack.js';

interface StackRecord {
  options: StackOptions;
  images: Partial<ImageTags>;
  startedAt: string;
}

const quiet: Log = () => undefined;

export class ReferenceStack {
  readonly options: StackOptions;
  readonly docker: DockerClient;

  constructor(options: Partial<StackOptions> = {}, docker = new DockerClient()) {
    this.options = resolveStackOptions(options);
    this.docker = docker;
  }

  /**
   * The reference stack as `stack up` last started it here: the options it recorded in its state folder, under the
   * caller's own (a stack started elsewhere, or not at all, keeps the defaults and the caller's options).
   */
  static async recorded(partial: Partial<StackOptions> = {}, docker = new DockerClient()): Promise<ReferenceStack> {
    const options = resolveStackOptions(partial);
    try {
      const record = JSON.parse(await readFile(join(stateDir(options), 'stack.json'), 'utf8')) as { options: Record<string, unknown> };
      const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
      return new ReferenceStack({ ...options, ...pickStackOptions(record.options), ...given }, docker);
    } catch {
      return new ReferenceStack(options, docker);
    }
  }

  get stateDir(): string {
    return stateDir(this.options);
  }

  /** The profile's own description, with the stack's options filled in. */
  spec(): Promise<StackSpec> {
    return referenceSpec(this.options);
  }

  /** The stack as it runs now (or will run): what faults, probes and load work on. Nothing is started. */
  async attach(): Promise<AttachedStack> {
    await this.docker.ping();
    const dir = join(this.stateDir, 'tls');
    return new AttachedStack(this.options, this.docker, { dir, caPath: join(dir, 'ca.pem') }, await this.spec(), this.options.profile);
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
    const spec = await this.spec();
    const started = new AttachedStack(this.options, this.docker, tls, spec, this.options.profile);
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
      await started.waitReady({
        timeoutMs: options.timeoutMs ?? spec.ready_timeout,
        // One container per service of the compose file: compose may not have created them all yet.
        expectedContainers: referenceCompose(this.options.profile).services.length,
        ...(signal ? { signal } : {}),
        log,
      });
      return started;
    } catch (err) {
      if (before.length === 0) {
        log('start failed; removing what was started');
        await this.down().catch(() => undefined);
      }
      throw err instanceof FaultlineError ? err : new FaultlineError('STACK_FAILED', `stack did not come up: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Prints the logs of the stack (or of some services) through compose; false when no compose is installed. */
  async logs(services: string[], options: { tail: string; follow?: boolean }): Promise<boolean> {
    const flavour = await detectCompose();
    if (!flavour) return false;
    const env = composeEnv(this.options, placeholderImages(this.options), join(this.stateDir, 'tls'));
    await compose(flavour, ['logs', '--no-color', '--tail', options.tail, ...(options.follow ? ['-f'] : []), ...services], {
      project: this.options.project,
      file: PROFILES[this.options.profile].composeFile,
      env,
      inherit: true,
    });
    return true;
  }

  /**
   * Removes the stack's containers, networks and volumes (by compose, then by label) and nothing else. `forget` is told
   * the state folder and project once they are gone (the CLI drops the fault records whose effect went with the stack;
   * the stack layer knows nothing of faults).
   */
  async down(
    options: { signal?: AbortSignal; log?: Log; forget?: (stateDir: string, project: string) => Promise<string[]> } = {},
  ): Promise<{ containers: number; networks: number; volumes: number }> {
    const project = this.options.project;
    const flavour = await detectCompose();
    const before = await (await this.attach()).containers();
    if (flavour && before.some((c) => c.labels['com.docker.compose.project'] === project)) {
      const env = composeEnv(this.options, placeholderImages(this.options), join(this.stateDir, 'tls'));
      await compose(flavour, ['down', '-v', '--remove-orphans', '--timeout', '2'], {
        project,
        file: PROFILES[this.options.profile].composeFile,
        env,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
    // Anything left with the stack's label: helpers from faults and probes, a stack started without compose.
    const label = { [LABEL.stack]: project };
    const leftovers = await this.docker.listContainers(label);
    await Promise.all(leftovers.map((c) => this.docker.remove(c.id).catch(() => undefined)));
    const networks = await this.docker.listNetworks(label);
    for (const n of networks) await this.docker.removeNetwork(n.id).catch(() => undefined);
    const volumes = await this.docker.listVolumes(label);
    for (const v of volumes) await this.docker.removeVolume(v.name).catch(() => undefined);
    await rm(join(this.stateDir, 'stack.json'), { force: true });
    // The passwords went with the volumes; the next stack gets new ones.
    await removeDbSecrets(this.stateDir);
    const faults = (await options.forget?.(this.stateDir, project)) ?? [];
    if (faults.length) options.log?.(`dropped ${faults.length} fault record(s) whose effect went with the stack: ${faults.join(', ')}`);
    return { containers: before.length, networks: networks.length, volumes: volumes.length };
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

/** The reference stack's own description (baseline profile), shipped beside its compose file. */
export const referenceSpecFile = PROFILES.baseline.specFile;

/** The variables the reference description interpolates, from the stack's options. */
export function referenceVars(o: StackOptions): Record<string, string> {
  return {
    ...addressVars(o),
    FAULTLINE_DOMAIN: o.domain,
    FAULTLINE_STATE_DIR: stateDir(o),
    FAULTLINE_INTERNAL_TLS_DIR: internalTlsDir(o),
    FAULTLINE_COMPOSE_FILE: PROFILES[o.profile].composeFile,
  };
}

export async function referenceSpec(o: StackOptions): Promise<StackSpec> {
  return loadStackSpec(PROFILES[o.profile].specFile, referenceVars(o));
}
