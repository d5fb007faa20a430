// Shared by the fault tests: independent looks at the stack (TCP connects, execs from other servers, a
// whole-stack snapshot) that do not go through the fault code they check.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import net from 'node:net';
import { LABEL, type DockerClient } from '../../src/stack/docker-client.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { createFaultContext, LB_FILES, type FaultContext } from '../../src/faults/index.js';
import { handshake } from '../../src/faults/tls-check.js';
import { repoRoot } from './stack.js';

export type ConnectResult = 'open' | 'refused' | 'timeout';

/** A TCP connect from the test process (the Docker host: .1, the stack's management address). */
export function tcpConnect(host: string, port: number, timeoutMs = 800): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (r: ConnectResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'timeout'));
  });
}

export async function hostOf(stack: AttachedStack, server: string): Promise<string> {
  const c = (await stack.containers()).find((x) => x.server === server && x.component === 'host' && !x.labels[LABEL.fault]);
  if (!c) throw new Error(`no host container for ${server}`);
  return c.id;
}

export async function idOf(stack: AttachedStack, service: string): Promise<string> {
  const c = (await stack.containers()).find((x) => x.service === service);
  if (!c) throw new Error(`no container for ${service}`);
  return c.id;
}

/** A TCP connect made from inside another server's network namespace (nc in its host container). */
export async function connectFrom(docker: Pick<DockerClient, 'exec'>, fromHostId: string, ip: string, port: number): Promise<boolean> {
  const res = await docker.exec(fromHostId, ['nc', '-z', '-w', '1', ip, String(port)]);
  return res.exitCode === 0;
}

/**
 * What a reverted container is, as a user would check it: its own health check passes now (the revert ran it), and
 * Docker's status says healthy by Docker's next run of that check (the stack's interval is 5 s). '' when both hold.
 */
export async function backAndHealthy(stack: AttachedStack, id: string): Promise<string> {
  const state = await stack.docker.inspect(id);
  if (!state.running) return 'not running';
  const check = state.healthTest ? await stack.docker.exec(id, state.healthTest) : null;
  if (check && check.exitCode !== 0) return `its health check fails now (exit ${check.exitCode})`;
  for (const deadline = Date.now() + 7000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250)))
    if ((await stack.docker.inspect(id)).health === 'healthy') return '';
  return `Docker still says ${(await stack.docker.inspect(id)).health} 7 s after the revert`;
}

export interface StackSnapshot {
  fingerprint: string | undefined;
  /** server → `nft list ruleset` + every qdisc (`tc qdisc show`, all interfaces) */
  network: Record<string, string>;
  /** service → running/paused/exited */
  states: Record<string, string>;
  /** Every container faultline started (fault helpers, vantage points), running or not: name and labels. */
  started: string[];
  /** How many of them. */
  helpers: number;
  /** The LB's certificate file, active configuration and openssl.cnf: path → SHA-256 (read in any state). */
  lbFiles: Record<string, string | null>;
  /** The state file as it is on disk, or null when there is none. */
  faultsJson: string | null;
}

/** Everything a fault may change, seen directly (Docker, nft, tc, a TLS handshake). */
export async function snapshot(stack: AttachedStack): Promise<StackSnapshot> {
  const all = await stack.containers();
  const network: Record<string, string> = {};
  await Promise.all(
    all
      .filter((c) => c.component === 'host' && !c.labels[LABEL.fault] && c.state === 'running')
      .map(async (c) => {
        const res = await stack.docker.exec(c.id, ['sh', '-c', 'nft list ruleset; echo ---; tc qdisc show']);
        network[c.server ?? c.name] = res.stdout;
      }),
  );
  const started = all.filter((c) => c.labels[LABEL.fault] || c.labels[LABEL.helper] || c.role === 'vantage');
  const states: Record<string, string> = {};
  for (const c of all) if (!started.includes(c)) states[c.service] = c.state;
  const lbFiles: Record<string, string | null> = {};
  const lb = all.find((c) => c.component === 'haproxy' && !started.includes(c));
  for (const path of Object.values(LB_FILES)) {
    const content = lb ? await stack.docker.readFile(lb.id, path) : undefined;
    lbFiles[path] = content ? createHash('sha256').update(content).digest('hex') : null;
  }
  const faultsJson = await readFile(join(stack.stateDir, 'faults.json'), 'utf8').catch(() => null);
  const hs = await handshake({ port: stack.options.httpsPort });
  return {
    fingerprint: hs.certificate?.fingerprint256,
    network,
    states,
    started: started.map((c) => `${c.name} ${JSON.stringify(c.labels)}`).sort(),
    helpers: started.length,
    lbFiles,
    faultsJson,
  };
}

export function faultContext(stack: AttachedStack): FaultContext {
  return createFaultContext(stack, { holdMs: 300_000 });
}

/**
 * Serialises stack-changing tests across ava's worker processes (files run in parallel): an exclusive lock
 * file in the stack's state folder, taken over when its holder died. Bounded wait.
 */
export async function exclusive<T>(stack: AttachedStack, fn: () => Promise<T>): Promise<T> {
  const { open, rm, readFile, mkdir } = await import('node:fs/promises');
  const path = `${stack.stateDir}/test-faults.lock`;
  await mkdir(stack.stateDir, { recursive: true });
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch {
      const pid = Number(await readFile(path, 'utf8').catch(() => ''));
      let alive = true;
      try {
        if (pid > 0) process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) await rm(path, { force: true });
      if (Date.now() > deadline) throw new Error(`${path} held too long`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

/** Containers of the stack that faultline started (fault helpers, vantage points), running or not. */
export async function helperContainers(stack: AttachedStack): Promise<string[]> {
  return (await stack.containers()).filter((c) => c.labels[LABEL.fault] || c.labels[LABEL.helper] || c.role === 'vantage').map((c) => c.id);
}

export interface HeldCli {
  child: ChildProcess;
  /** Everything printed so far. */
  output: () => { stdout: string; stderr: string };
  /** Resolves once stdout matches; rejects if the process exits first or after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the CLI from source and keeps the handle (runCli waits for the end), so a test can SIGKILL a
 * faultline that holds a fault. The child is the node process itself: a kill reaches faultline, not a shell.
 */
export function startCli(args: string[]): HeldCli {
  const child = spawn(process.execPath, ['--import=tsx', 'src/cli/main.ts', ...args], { cwd: repoRoot, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no ${pattern} within ${timeoutMs} ms; stdout: ${stdout.trim()} stderr: ${stderr.trim()}`)), timeoutMs);
      const onData = () => {
        const m = pattern.exec(stdout);
        if (m) finish(undefined, m[0]);
      };
      const onClose = () => finish(new Error(`faultline ${args.join(' ')} exited before ${pattern}; stdout: ${stdout.trim()} stderr: ${stderr.trim()}`));
      const finish = (err?: Error, value?: string) => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('close', onClose);
        if (err) reject(err);
        else resolve(value!);
      };
      child.stdout?.on('data', onData);
      child.once('close', onClose);
      onData();
    });
  return { child, output: () => ({ stdout, stderr }), waitFor, exited };
}
