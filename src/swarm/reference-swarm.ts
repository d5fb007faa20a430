// The reference stack on a swarm (issue 20): `docker stack deploy` of compose/swarm/docker-stack.yml with its servers
// spread over the nodes, the same firewalls, TLS and monitoring as the compose stack. Deploy builds the images as
// `stack up` does, ships each worker the images of the servers placed on it, deploys, and waits until every server's
// task runs (healthy: Swarm reports a task with a health check running only once it passes) and the LB answers HTTPS
// from web1, web2 and web3. Remove takes away exactly the stack: its services, networks, secrets and volumes.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FaultlineError, invalidInput } from '../errors.js';
import { DockerClient } from '../stack/docker-client.js';
import { addressVars, type StackOptions } from '../stack/config.js';
import { ReferenceStack } from '../stack/reference-stack.js';
import { ensureStackTls } from '../stack/stack-ca.js';
import { ensureDbSecrets, removeDbSecrets } from '../stack/secrets.js';
import { request } from '../util/http.js';
import { retryUntil } from '../util/retry.js';
import { readSwarmRecord } from './swarm-record.js';
import { shipImages } from './ship-images.js';
import { buildSwarmImages, orderWorkers, SERVERS, shipPlan, swarmStackFile, type SwarmImageTags } from './swarm-images.js';

/** The reference stack's options without a profile: the swarm form is the baseline's (its name, ports and networks apart). */
export type SwarmStackOptions = Omit<StackOptions, 'profile'>;

export const SWARM_STACK_DEFAULTS = { project: 'fl-ref', httpPort: 8082, httpsPort: 8445, netPrefix: '10.213.27', edgePrefix: '10.213.28' } as const;

export function swarmStackOptions(partial: Partial<SwarmStackOptions> = {}, env: NodeJS.ProcessEnv = process.env): SwarmStackOptions {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const o: SwarmStackOptions = {
    ...SWARM_STACK_DEFAULTS,
    home: env.FAULTLINE_HOME ?? join(homedir(), '.faultline'),
    domain: env.FAULTLINE_DOMAIN ?? 'faultline.local',
    ...given,
  };
  if (!/^[a-z0-9][a-z0-9_-]{0,40}$/.test(o.project)) throw invalidInput('project', `"${o.project}" must be lowercase letters, digits, - or _`);
  for (const [name, port] of [
    ['http-port', o.httpPort],
    ['https-port', o.httpsPort],
  ] as const)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidInput(name, `${port} is not a TCP port (1-65535)`);
  return o;
}

/** One task of the stack as the manager lists it. */
export interface SwarmTask {
  id: string;
  /** The server (the service's name without `<project>_`). */
  server: string;
  node: string;
  desired: string;
  /** running, starting, preparing, failed, … (the first word of CURRENT STATE, lowercase). */
  state: string;
  error: string;
}

/** `docker stack ps` lines (ID, NAME, NODE, DESIRED, CURRENT, ERROR, tab-separated) → tasks. Pure. */
export function parseTasks(text: string, project: string): SwarmTask[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [id = '', name = '', node = '', desired = '', current = '', error = ''] = line.split('\t');
      const server = name
        .replace(/^[\s\\_]+/, '')
        .replace(new RegExp(`^${project}_`), '')
        .replace(/\.\d+$/, '');
      return { id, server, node, desired: desired.toLowerCase(), state: (current.split(' ')[0] ?? '').toLowerCase(), error };
    });
}

/** Servers without a running task (their tasks' states and errors), empty when all run. Pure. */
export function notRunning(tasks: SwarmTask[]): string[] {
  return Object.keys(SERVERS).flatMap((server) => {
    const mine = tasks.filter((t) => t.server === server && t.desired === 'running');
    if (mine.some((t) => t.state === 'running')) return [];
    const last = tasks.find((t) => t.server === server);
    return [`${server}: ${last ? `${last.state}${last.error ? ` (${last.error})` : ''}` : 'no task'}`];
  });
}

type Log = (line: string) => void;
const quiet: Log = () => undefined;

/** Runs the docker CLI (what `docker stack` needs: the API has no stack); rejects with SWARM_FAILED and its output. */
export function dockerCli(args: string[], options: { env?: Record<string, string>; signal?: AbortSignal } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'docker',
      args,
      { env: { ...process.env, ...options.env }, maxBuffer: 16 << 20, ...(options.signal ? { signal: options.signal } : {}) },
      (err, stdout, stderr) => {
        const hint = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? { hint: 'install the docker CLI (docker stack has no API of its own)' } : {};
        if (err)
          reject(new FaultlineError('SWARM_FAILED', `docker ${args.slice(0, 2).join(' ')} failed: ${(stderr || err.message).trim()}`, { cause: err, ...hint }));
        else resolve(stdout);
      },
    );
  });
}

export class ReferenceSwarm {
  readonly options: SwarmStackOptions;
  constructor(
    options: Partial<SwarmStackOptions> = {},
    readonly docker = new DockerClient(),
  ) {
    this.options = swarmStackOptions(options);
  }

  get stateDir(): string {
    return join(this.options.home, this.options.project);
  }
  get caPath(): string {
    return join(this.stateDir, 'tls', 'ca.pem');
  }
  get httpsUrl(): string {
    return `https://127.0.0.1:${this.options.httpsPort}`;
  }

  /** The two workers the stack's placement names A and B (by hostname, faultline's record first) and their engines. */
  async workers(): Promise<{ A: string; B: string; engines: Record<string, string> }> {
    const member = await this.docker.swarm.membership();
    if (member.state !== 'active' || !member.isManager)
      throw new FaultlineError('SWARM_FAILED', 'this engine is not the manager of a swarm', { hint: 'faultline swarm up --nodes 2' });
    const record = await readSwarmRecord(this.options.home);
    const ready = (await this.docker.swarm.nodes()).filter((n) => n.role === 'worker' && n.state === 'ready' && n.availability === 'active');
    const names = orderWorkers(
      ready.map((n) => n.hostname),
      record?.nodes ?? [],
    );
    const [A, B] = names;
    if (!A || !B)
      throw new FaultlineError('SWARM_FAILED', `the reference swarm stack needs two ready workers, the swarm has ${names.length}`, {
        hint: 'faultline swarm up --nodes 2',
      });
    return { A, B, engines: record?.engines ?? {} };
  }

  /** Builds, ships, deploys and waits until ready (see the file's head). Idempotent: a deployed stack is updated. */
  async deploy(options: { signal?: AbortSignal; log?: Log; timeoutMs?: number } = {}): Promise<{ tasks: SwarmTask[]; seconds: Record<string, number> }> {
    const log = options.log ?? quiet;
    const signal = options.signal;
    const t0 = Date.now();
    const seconds: Record<string, number> = {};
    const lap = (name: string, from: number) => (seconds[name] = Math.round((Date.now() - from) / 100) / 10);
    await this.docker.ping(signal);
    const workers = await this.workers();
    const base = await new ReferenceStack({ profile: 'baseline' }, this.docker).build({ ...(signal ? { signal } : {}), log });
    const images = await buildSwarmImages(this.docker, base, { ...(signal ? { signal } : {}), log });
    lap('build', t0);
    const t1 = Date.now();
    await this.ship(workers, images, { ...(signal ? { signal } : {}), log });
    lap('ship', t1);
    const t2 = Date.now();
    const env = await this.deployEnv(workers, images);
    log(`deploying ${this.options.project} (${swarmStackFile})`);
    await dockerCli(['stack', 'deploy', '--resolve-image', 'never', '--prune', '-c', swarmStackFile, this.options.project], {
      env,
      ...(signal ? { signal } : {}),
    });
    const tasks = await this.waitRunning({ timeoutMs: options.timeoutMs ?? 300_000, log, ...(signal ? { signal } : {}) });
    lap('tasks', t2);
    const t3 = Date.now();
    await this.waitServing({ timeoutMs: 60_000, ...(signal ? { signal } : {}) });
    lap('https', t3);
    await this.dropStaleImages(workers, images, log);
    lap('total', t0);
    return { tasks, seconds };
  }

  /** Each worker gets the images of the servers placed on it; a worker whose engine faultline does not know is left to the user's registry. */
  private async ship(workers: { A: string; B: string; engines: Record<string, string> }, images: SwarmImageTags, o: { signal?: AbortSignal; log: Log }) {
    for (const [node, tags] of Object.entries(shipPlan(workers, images))) {
      const endpoint = workers.engines[node];
      if (!endpoint) {
        o.log(`${node}: no engine known to faultline; it must pull ${tags.join(', ')} itself`);
        continue;
      }
      await shipImages(this.docker, { [node]: endpoint }, tags, { log: o.log, ...(o.signal ? { signal: o.signal } : {}) });
    }
  }

  /**
   * A worker's images are in its RAM: once the stack runs, older server images there go (one still held by a stopped
   * task's container stays until Swarm drops that task from its history; failures are only logged).
   */
  private async dropStaleImages(workers: { engines: Record<string, string> }, images: SwarmImageTags, log: Log): Promise<void> {
    const current = new Set(Object.values(images));
    for (const [node, endpoint] of Object.entries(workers.engines)) {
      const env = { DOCKER_HOST: endpoint };
      const list = await dockerCli(['images', '--filter', 'reference=faultline-swarm/*', '--format', '{{.Repository}}:{{.Tag}}'], { env }).catch(() => '');
      const stale = list.split('\n').filter((tag) => tag && !current.has(tag));
      for (const tag of stale)
        await dockerCli(['rmi', tag], { env }).then(
          () => log(`${node}: dropped ${tag}`),
          () => log(`${node}: ${tag} still in use`),
        );
    }
  }

  /** The variables the stack file takes; the secrets' files written into the 0700 state folder first. */
  private async deployEnv(workers: { A: string; B: string }, images: SwarmImageTags): Promise<Record<string, string>> {
    const o = this.options;
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await chmod(this.stateDir, 0o700);
    const tls = await ensureStackTls(join(this.stateDir, 'tls'), o.project, o.domain);
    const db = await ensureDbSecrets(this.stateDir);
    const files: Record<string, string> = {
      site_pem: await readFile(join(tls.lbDir, 'site.pem'), 'utf8'),
      db_app: db.app,
      db_repl: db.repl,
      db_exporter: db.exporter,
      db_admin: db.admin,
    };
    const dir = join(this.stateDir, 'swarm-secrets');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const hash = createHash('sha256');
    for (const [name, text] of Object.entries(files)) {
      await writeFile(join(dir, name), text, { mode: 0o600 });
      hash.update(`${name}\n${text}\n`);
    }
    return {
      ...addressVars(o),
      FAULTLINE_SWARM_NODE_A: workers.A,
      FAULTLINE_SWARM_NODE_B: workers.B,
      FAULTLINE_SWARM_IMAGE_LB: images.lb,
      FAULTLINE_SWARM_IMAGE_WEB: images.web,
      FAULTLINE_SWARM_IMAGE_DB: images.db,
      FAULTLINE_SWARM_IMAGE_MONITOR: images.monitor,
      FAULTLINE_SWARM_SECRETS: dir,
      FAULTLINE_SWARM_SECRETS_VERSION: hash.digest('hex').slice(0, 10),
    };
  }

  /** The stack's tasks as the manager lists them (empty when it is not deployed). */
  async tasks(signal?: AbortSignal): Promise<SwarmTask[]> {
    const format = '{{.ID}}\t{{.Name}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}';
    try {
      return parseTasks(
        await dockerCli(['stack', 'ps', '--no-trunc', '--format', format, this.options.project], signal ? { signal } : {}),
        this.options.project,
      );
    } catch (err) {
      if (/nothing found in stack/i.test((err as Error).message)) return [];
      throw err;
    }
  }

  /** The container of a running task, with the engine of the node it runs on (the manager's own for its tasks). */
  async taskContainer(task: SwarmTask): Promise<{ docker: DockerClient; containerId: string }> {
    const containerId = (await dockerCli(['inspect', '--format', '{{.Status.ContainerStatus.ContainerID}}', task.id])).trim();
    const { engines } = await this.workers();
    const endpoint = engines[task.node];
    return { docker: endpoint ? DockerClient.at(endpoint) : this.docker, containerId };
  }

  async waitRunning(o: { timeoutMs: number; signal?: AbortSignal; log?: Log }): Promise<SwarmTask[]> {
    let last = '';
    return retryUntil(
      () => this.tasks(o.signal),
      (tasks) => {
        const waiting = notRunning(tasks);
        const line = waiting.join(', ');
        if (line && line !== last) o.log?.(`waiting for ${line}`);
        last = line;
        return waiting.length === 0;
      },
      { timeoutMs: o.timeoutMs, intervalMs: 3000, what: `every server of ${this.options.project} running`, ...(o.signal ? { signal: o.signal } : {}) },
    );
  }

  /** Until HTTPS on 127.0.0.1, verified with the stack's CA, has answered from web1, web2 and web3. */
  async waitServing(o: { timeoutMs: number; signal?: AbortSignal }): Promise<Set<string>> {
    const ca = await readFile(this.caPath, 'utf8');
    const seen = new Set<string>();
    const web = Object.keys(SERVERS).filter((s) => SERVERS[s]!.kind === 'web');
    await retryUntil(
      async () => {
        const res = await request(`${this.httpsUrl}/whoami`, { ca, timeoutMs: 3000, ...(o.signal ? { signal: o.signal } : {}) });
        if (res.status === 200) seen.add((JSON.parse(res.body) as { server: string }).server);
        return seen;
      },
      (s) => web.every((w) => s.has(w)),
      { timeoutMs: o.timeoutMs, intervalMs: 200, what: `HTTPS answers from ${web.join(', ')}`, ...(o.signal ? { signal: o.signal } : {}) },
    );
    return seen;
  }

  /**
   * Removes exactly the stack: `docker stack rm` (services, networks, secrets), then, once its containers are gone from
   * every node, what stack rm leaves: networks still attached at the time and the databases' volumes on each node.
   * The CA stays (a browser may trust it); the passwords go with the volumes, as `stack down` does.
   */
  async remove(options: { signal?: AbortSignal; log?: Log } = {}): Promise<{ volumes: number }> {
    const log = options.log ?? quiet;
    const project = this.options.project;
    const ns = { 'com.docker.stack.namespace': project };
    await dockerCli(['stack', 'rm', project], options.signal ? { signal: options.signal } : {});
    const { engines } = await this.workers().catch(() => ({ engines: {} as Record<string, string> }));
    const nodes = [this.docker, ...Object.values(engines).map((e) => DockerClient.at(e))];
    await retryUntil(
      async () => (await Promise.all(nodes.map((d) => d.listContainers(ns).catch(() => [])))).flat().length,
      (n) => n === 0,
      { timeoutMs: 60_000, intervalMs: 2000, what: `the containers of ${project} gone`, ...(options.signal ? { signal: options.signal } : {}) },
    );
    await retryUntil(
      async () => {
        const left = await this.docker.listNetworks(ns);
        for (const n of left) await this.docker.removeNetwork(n.id).catch(() => undefined);
        return left.length;
      },
      (n) => n === 0,
      { timeoutMs: 30_000, intervalMs: 2000, what: `the networks of ${project} gone`, ...(options.signal ? { signal: options.signal } : {}) },
    );
    let volumes = 0;
    for (const d of nodes) {
      for (const v of await d.listVolumes(ns).catch(() => [])) {
        await d.removeVolume(v.name);
        volumes++;
      }
    }
    await rm(join(this.stateDir, 'swarm-secrets'), { recursive: true, force: true });
    await removeDbSecrets(this.stateDir);
    log(`removed ${project} (${volumes} volume(s))`);
    return { volumes };
  }
}
