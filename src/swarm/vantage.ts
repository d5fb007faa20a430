// faultline's vantage point on a swarm stack's overlay (docs/swarm.md "The vantage"). On a compose stack the operator is
// the Docker host, which has an address on the stack's bridge networks; an overlay has none on any host, so probes that
// dial a task (databases, Prometheus) go through one helper container on the manager, attached to the stack's
// attachable networks under the alias the firewalls admit as "operator", relaying 127.0.0.1 ports to task addresses.
// Started on first use, one per stack and process, removed when the process ends; a lease ends it when faultline is
// killed, and `faultline revert` removes one whose holder is gone (a helper like the others).

import { execFile, execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { FaultlineError } from '../errors.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { ExecResult } from '../stack/docker-types.js';
import { sleep } from '../util/sleep.js';
import { dockerCli } from './reference-swarm.js';
import { DEFAULT_ALIAS, isLoopback, parsePorts, pickNetworks, relayCommand, RENEW_COMMAND, RENEW_MS, runArgs, SLOT_BASE, SLOTS } from './vantage-plan.js';
import type { StackNetwork } from './vantage-plan.js';

export { DEFAULT_ALIAS } from './vantage-plan.js';

/** How long a new vantage waits before its first use (see start()). */
const SETTLE_MS = 3000;

/** The stack's networks as the manager knows them (name, attachable, scope). */
async function stackNetworks(project: string, signal?: AbortSignal): Promise<StackNetwork[]> {
  const o = signal ? { signal } : {};
  const names = (await dockerCli(['network', 'ls', '--filter', `label=com.docker.stack.namespace=${project}`, '--format', '{{.Name}}'], o))
    .split('\n')
    .filter(Boolean);
  if (names.length === 0) return [];
  const lines = await dockerCli(['network', 'inspect', '--format', '{{.Name}} {{.Attachable}} {{.Scope}}', ...names], o);
  return lines
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name = '', attachable = '', scope = ''] = l.split(' ');
      return { name, attachable: attachable === 'true', scope };
    });
}

/** The gateway of the bridge a published port's connections come from (docker_gwbridge for a container on an overlay). */
async function gatewayOf(signal?: AbortSignal): Promise<string> {
  const out = await dockerCli(
    ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}} {{end}}', 'docker_gwbridge'],
    signal ? { signal } : {},
  ).catch(() => '');
  return out.trim().split(' ')[0] ?? '';
}

export class SwarmVantage {
  private readonly slots = new Map<string, Promise<number>>();
  private readonly renew: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly stack: AttachedStack,
    /** The container's id on the manager. */
    readonly id: string,
    readonly networks: string[],
    readonly alias: string,
    private readonly hostPorts: Map<number, number>,
    private readonly gateway: string,
  ) {
    this.renew = setInterval(() => void this.exec(RENEW_COMMAND).catch(() => undefined), RENEW_MS);
    this.renew.unref();
  }

  /** Starts the vantage for `stack` on the manager and connects it to every network it joins. */
  static async start(stack: AttachedStack, signal?: AbortSignal): Promise<SwarmVantage> {
    const o = signal ? { signal } : {};
    const networks = pickNetworks(stack.spec.vantage?.networks, await stackNetworks(stack.project, signal), stack.internalNetwork, stack.project);
    const alias = stack.spec.vantage?.alias ?? DEFAULT_ALIAS;
    const image = await stack.helperImage();
    const name = `${stack.project}-vantage-${process.pid}-${Date.now().toString(36)}`;
    const args = runArgs({ name, image, project: stack.project, network: networks[0]!, alias, holder: `${process.pid} ${hostname()}` });
    const id = (await dockerCli(args, o)).trim();
    try {
      for (const n of networks.slice(1)) await dockerCli(['network', 'connect', '--alias', alias, n, id], o);
      const ports = parsePorts(await dockerCli(['port', id], o));
      if (ports.size < SLOTS) throw new FaultlineError('SWARM_FAILED', `the vantage ${name} has ${ports.size} of ${SLOTS} ports published on 127.0.0.1`);
      const gateway = await gatewayOf(signal);
      // The alias reaches every node's DNS and the reference firewalls look it up each second: a first dial before then
      // would be dropped as a stranger's.
      await sleep(SETTLE_MS, signal);
      const vantage = new SwarmVantage(stack, id, networks, alias, ports, gateway);
      started.add(vantage);
      return vantage;
    } catch (err) {
      await dockerCli(['rm', '--force', id]).catch(() => undefined);
      throw err;
    }
  }

  /** A command in the vantage (as nobody), e.g. the operator's exposure scan. */
  exec(cmd: string[], signal?: AbortSignal): Promise<ExecResult> {
    return this.stack.docker.exec(this.id, cmd, signal ? { signal } : {});
  }

  /** Where on 127.0.0.1 a task's `host:port` answers: a relay started on first use, the same one after. */
  reach(host: string, port: number, signal?: AbortSignal): Promise<{ host: string; port: number }> {
    const key = `${host}:${port}`;
    let slot = this.slots.get(key);
    if (!slot) {
      const index = this.slots.size;
      if (index >= SLOTS)
        throw new FaultlineError('SWARM_FAILED', `the vantage relays ${SLOTS} task addresses already; ${key} is one more than it has ports for`);
      slot = (async () => {
        const res = await this.exec(relayCommand(index, host, port, this.gateway), signal);
        if (res.exitCode !== 0) throw new FaultlineError('SWARM_FAILED', `the vantage could not relay to ${key}: ${res.stderr.trim().slice(0, 200)}`);
        return this.hostPorts.get(SLOT_BASE + index)!;
      })();
      this.slots.set(key, slot);
      slot.catch(() => this.slots.delete(key));
    }
    return slot.then((p) => ({ host: '127.0.0.1', port: p }));
  }

  /** Removes the container (its relays end with it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    started.delete(this);
    clearInterval(this.renew);
    await dockerCli(['rm', '--force', this.id]).catch(() => undefined);
  }

  /** At process exit, when nothing async can run any more. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renew);
    try {
      execFileSync('docker', ['rm', '--force', this.id], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // The lease ends it within LEASE_S, and `faultline revert` removes it.
    }
  }
}

const open = new Map<string, Promise<SwarmVantage>>();
/** The vantages that have started, for the exit hook, which cannot wait for a promise. */
const started = new Set<SwarmVantage>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // beforeExit: the loop is empty, so the removal may be async; exit: process.exit or a second round, sync.
  process.on('beforeExit', () => {
    if (open.size) void closeVantages();
  });
  process.on('exit', () => {
    for (const v of started) v.closeSync();
  });
}

/** The vantage of a swarm stack in this process (started once; a failed start is tried again next time). */
export function vantageOf(stack: AttachedStack, signal?: AbortSignal): Promise<SwarmVantage> {
  if (stack.spec.kind !== 'swarm') throw new FaultlineError('INTERNAL', `stack ${stack.project} is not a swarm stack: it needs no vantage`);
  let v = open.get(stack.project);
  if (!v) {
    hookExit();
    v = SwarmVantage.start(stack, signal);
    open.set(stack.project, v);
    v.catch(() => open.delete(stack.project));
  }
  return v;
}

/**
 * Where faultline dials a stack's `host:port`: as it is on a compose stack (the Docker host is on its networks) and for
 * loopback, through the vantage on a swarm stack.
 */
export async function reach(stack: AttachedStack, host: string, port: number, signal?: AbortSignal): Promise<{ host: string; port: number }> {
  if (stack.spec.kind !== 'swarm' || isLoopback(host)) return { host, port };
  return (await vantageOf(stack, signal)).reach(host, port, signal);
}

/** A URL to one of the stack's addresses, as faultline dials it (reach(): the same URL on a compose stack or for loopback). */
export async function reachUrl(stack: AttachedStack, url: URL, signal?: AbortSignal): Promise<URL> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const at = await reach(stack, host, port, signal);
  if (at.host === host && at.port === port) return url;
  const dialled = new URL(url.href);
  dialled.hostname = at.host;
  dialled.port = String(at.port);
  return dialled;
}

/**
 * Runs a bash script where the operator is (exposure's operator rows): on the Docker host for a compose stack (its
 * bridge networks' gateway, which the firewalls admit), in the vantage for a swarm stack.
 */
export async function runAsOperator(stack: AttachedStack, script: string, args: string[], signal: AbortSignal): Promise<ExecResult> {
  if (stack.spec.kind === 'swarm') return (await vantageOf(stack, signal)).exec(['bash', '-c', script, 'operator', ...args], signal);
  return new Promise((resolve) => {
    execFile('bash', ['-c', script, 'operator', ...args], { signal, maxBuffer: 8 << 20 }, (err, stdout, stderr) =>
      resolve({ exitCode: err ? Number((err as { code?: unknown }).code) || 1 : 0, stdout, stderr }),
    );
  });
}

/** Removes every vantage this process started (the CLI's end, a test's teardown). */
export async function closeVantages(): Promise<void> {
  const all = [...open.values()];
  open.clear();
  await Promise.all(all.map((v) => v.then((x) => x.close()).catch(() => undefined)));
}
