// What bench/faults.ts and bench/proxy-cases.ts share: the watch a case's effect is read from, a loop of requests run
// by node inside an observer container (in a server's network namespace) whose lines become samples, and the docker
// CLI run to its output. One place, so the proxy cases and the other faults read their effects the same way.

import { spawn } from 'node:child_process';

export interface Sample {
  at: number;
  on: boolean;
  /** When its outcome was known (ms since epoch), where the check says; `at` (its start) otherwise. */
  end?: number;
  /** What the check saw, for the message when a run cannot tell (an observer loop's line). */
  raw?: string;
}
export interface Watch {
  ready: Promise<void>;
  /** In arrival order, which is not start order for TCP attempts (a drop answers only at its timeout). */
  samples: Sample[];
  /** How long the wanted state must hold before a result is final (longer when answers come late). */
  settleMs?: number;
  stop(): Promise<void>;
}

/** One fault of bench/faults.ts's table: how to inject it, how to see its effect, and its bare reference. */
export interface Case {
  fault: string;
  kind: 'process' | 'certificate' | 'firewall' | 'network' | 'resource' | 'proxy' | 'edge' | 'disk';
  input: { target?: string; params?: Record<string, unknown> };
  watch: () => Watch;
  /** What tells the stack is whole again, when not simply the effect gone. */
  whole?: () => Watch;
  /** The bare reference: do and undo, through the docker CLI. */
  ref: { what: string; apply: () => Promise<void>; revert: () => Promise<void> };
}

/**
 * A node script for an observer: every `everyMs`, one attempt, until its stdin closes (at most 2 minutes); it prints
 * "ready" once, then "<start ms> <line>" per attempt. `names` are its arguments' names; `body` opens the attempt's
 * socket as `sock` and calls `finish(line)` once with what it saw (later calls are ignored). Pure.
 */
export function observerLoop(names: string[], everyMs: number, body: string): string {
  return `
const net = require('net');
const [${names.join(', ')}] = process.argv.slice(1);
let pending = 0, stopping = false;
const end = () => { if (stopping && pending === 0) process.exit(0); };
const attempt = () => {
  const at = Date.now(); pending += 1; let done = false;
  const finish = (line) => { if (done) return; done = true; sock.destroy(); process.stdout.write(at + ' ' + line + '\\n'); pending -= 1; end(); };
${body}
};
const timer = setInterval(attempt, ${everyMs});
const stop = () => { clearInterval(timer); stopping = true; end(); };
setTimeout(stop, 120000);
process.stdin.on('end', stop).resume();
console.log('ready');
`;
}

/**
 * Runs `script` with node in `observerId` (`docker exec -i`) until its stdin closes. The script prints "ready" once,
 * then one line per attempt, "<start ms since epoch> <fields…>"; `parse` turns the fields after the time into a sample
 * (`on` true = the fault's effect; `tookMs` from its start until its outcome was known, when the line says), or
 * undefined for a line it does not know. One process, no fork per attempt: a loaded
 * machine delays it, but does not make it report a slow fork as the effect.
 */
export function execLoopWatch(
  observerId: string,
  script: string,
  args: string[],
  parse: (fields: string[]) => { on: boolean; tookMs?: number } | undefined,
  settleMs: number,
): Watch {
  const child = spawn('docker', ['exec', '-i', observerId, 'node', '-e', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const samples: Sample[] = [];
  let buf = '';
  let first: () => void = () => undefined;
  const ready = new Promise<void>((r) => (first = r));
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') first();
      const [at, ...fields] = line.split(' ');
      if (!/^\d+$/.test(at ?? '')) continue;
      const got = parse(fields);
      if (got) samples.push({ at: Number(at), on: got.on, raw: fields.join(' '), ...(got.tookMs === undefined ? {} : { end: Number(at) + got.tookMs }) });
    }
  });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  return {
    ready,
    samples,
    settleMs,
    stop: async () => {
      child.stdin.end();
      await closed;
    },
  };
}

/** `docker <args>`; its stdout trimmed; a non-zero exit is an error with its stderr. `stdin`, when given, is written to it. */
export function docker(args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    if (stdin !== undefined) child.stdin?.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`docker ${args.join(' ').slice(0, 200)} exited ${code}: ${err.trim()}`))));
  });
}
