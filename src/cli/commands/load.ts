// `faultline load <url>`: parse flags into LoadOptionsInput, run the engine, print progress and the result.
// All checking happens before a socket opens; the library decides everything else.

import { loadStackSpec } from '../../stack/spec.js';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ExitCode, invalidInput } from '../../errors.js';
import { parseDurationMs } from '../../util/duration.js';
import { action, interruptSignal } from '../run-command.js';
import {
  formatResult,
  formatResultLine,
  isInteractive,
  loadResultToJSON,
  parseRate,
  plainProgressListener,
  progressListener,
  startLoad,
} from '../../load/index.js';
import type { LoadEvent, LoadOptionsInput } from '../../load/index.js';
import { endpointTls, type EndpointTls } from '../../stack/endpoint-tls.js';
import { collect, liveOutputsForLoad } from '../out-flag.js';
import { parseWorkload } from '../../load/workload-spec.js';
import type { WorkloadSpec } from '../../load/workload-spec.js';
import { runAgentsLoadCommand } from './load-agents.js';

export interface LoadFlags {
  rate?: string;
  connections?: string;
  pipelining?: string;
  workers?: string;
  duration?: string;
  requests?: string;
  mix?: string;
  workload?: string;
  idRange?: string;
  ca?: string;
  insecure?: boolean;
  servername?: string;
  hostHeader?: string;
  bucket?: string;
  maxInFlight?: string;
  lateAfter?: string;
  timeout?: string;
  runId?: string;
  ledger?: string;
  json?: boolean;
  allowRemoteTarget?: boolean;
  stack?: string;
  out?: string[];
  agents?: string;
  network?: string;
}

function wholeNumber(field: string, text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw invalidInput(field, `must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function duration(field: string, text: string): number {
  const ms = parseDurationMs(text);
  if (ms === null) throw invalidInput(field, `expected a duration like 30s, 250ms or 2m, got ${JSON.stringify(text)}`);
  return ms;
}

/** A workload file (YAML or JSON, the shape of `workload:` in a stack description); errors name the file and the field. */
export function readWorkloadFile(file: string): WorkloadSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalidInput('workload', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    value = parseYaml(text);
  } catch (err) {
    throw invalidInput('workload', `${file} is neither YAML nor JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseWorkload(value, `workload: ${file}`);
}

/**
 * Flags to library input; reads the CA and workload files (no network). `workload`: the one a stack description
 * gives (--stack), used unless --workload names a file. Exported for tests.
 */
export function loadInputFromFlags(url: string, f: LoadFlags, workload?: WorkloadSpec): LoadOptionsInput {
  if (f.rate !== undefined && f.connections !== undefined) {
    throw invalidInput('rate', 'cannot be combined with --connections: use --rate for paced load or --connections for closed load');
  }
  const input: LoadOptionsInput = { url };
  if (f.rate !== undefined) input.rate = parseRate(f.rate);
  if (f.connections !== undefined) input.connections = wholeNumber('connections', f.connections);
  if (f.pipelining !== undefined) input.pipelining = wholeNumber('pipelining', f.pipelining);
  if (f.workers !== undefined) input.workers = wholeNumber('workers', f.workers);
  if (f.duration !== undefined) input.durationMs = duration('duration', f.duration);
  if (f.requests !== undefined) input.requests = wholeNumber('requests', f.requests);
  if (f.mix !== undefined) input.mix = f.mix;
  const w = f.workload !== undefined ? readWorkloadFile(f.workload) : workload;
  if (w) input.workload = w;
  if (f.idRange !== undefined) {
    const m = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(f.idRange);
    if (!m) throw invalidInput('id-range', `expected min..max like 1..1000, got ${JSON.stringify(f.idRange)}`);
    input.idRange = { min: Number(m[1]), max: Number(m[2]) };
  }
  if (f.insecure) input.insecure = true;
  if (f.servername !== undefined) input.servername = f.servername;
  if (f.hostHeader !== undefined) input.hostHeader = f.hostHeader;
  if (f.bucket !== undefined) input.bucketMs = duration('bucket', f.bucket);
  if (f.maxInFlight !== undefined) input.maxInFlight = wholeNumber('max-in-flight', f.maxInFlight);
  if (f.lateAfter !== undefined) input.lateAfterMs = duration('late-after', f.lateAfter);
  if (f.timeout !== undefined) input.timeoutMs = duration('timeout', f.timeout);
  if (f.runId !== undefined) input.runId = f.runId;
  if (f.allowRemoteTarget) input.allowRemoteTarget = true;
  if (f.ca !== undefined) {
    try {
      input.ca = readFileSync(f.ca, 'utf8');
    } catch (err) {
      throw invalidInput('ca', `cannot read ${f.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return input;
}

/**
 * What a described endpoint gives the load flags leave out (the flags always win): how to verify it (the CA as a
 * file, as --ca names one, or insecure) and its SNI name. `faultline load --stack` and `fault inject --load` alike.
 */
export function flagsFromEndpoint(target: string, endpoint: EndpointTls & { ca?: string | undefined }, flags: LoadFlags): LoadFlags {
  const { servername, ...verify } = endpointTls(target, endpoint, endpoint.ca);
  return {
    ...(flags.ca === undefined && !flags.insecure ? verify : {}),
    ...(flags.servername === undefined && servername ? { servername } : {}),
  };
}

export function registerLoadCommand(program: Command): void {
  program
    .command('load')
    .description('Drive HTTP load at a target and measure it truthfully: a timeline of outcomes, errors by code, a ledger of writes.')
    .argument('[url]', "target URL; only 127.0.0.1, ::1 or localhost unless --allow-remote-target (default with --stack: the description's endpoint)")
    .option('--rate <n>', 'paced (open model): arrival rate in req/s, or a ramp like 100..1000')
    .option('--connections <n>', 'closed model: concurrent connections (default 10)')
    .option('--pipelining <n>', 'closed model: requests in flight per connection (default 1)')
    .option('--workers <n>', 'closed model: run on this many threads, connections split between them, timelines merged (default 1; not with writes)')
    .option('--duration <d>', 'how long to send, e.g. 30s, 2m (default 30s)')
    .option('--requests <n>', 'stop after this many requests')
    .option('--mix <spec>', "requests by ratio, e.g. read=9,write=1 (the workload's request names); default the workload's mix, else GET <url>")
    .option('--workload <file>', "named requests (YAML or JSON, as `workload:` in a stack description); default the reference app's: whoami, read, write")
    .option('--id-range <min..max>', 'ids reads use until writes in this run returned some (default 1..100)')
    .option('--ca <file>', 'verify the server certificate against this CA (PEM)')
    .option('--insecure', 'do not verify the server certificate (an explicit choice, shown in the result)')
    .option('--servername <name>', 'TLS server name (SNI, and the name the certificate must match)')
    .option('--host-header <name>', 'Host header to send; for an IP URL over https it is also the default servername')
    .option('--bucket <d>', 'timeline bucket width (default 100ms)')
    .option('--max-in-flight <n>', 'paced: bound on requests in flight; over it a due request is dropped, a failure (default: peak rate × timeout, 1000–10000)')
    .option('--late-after <d>', 'paced: a request not on the wire this long after its intended time is late, a failure (default 250ms; docs/load.md)')
    .option(
      '--timeout <d>',
      'a request without an answer after this fails with ETIMEDOUT; at the end of the run, requests in flight are waited for until theirs (default 10s)',
    )
    .option('--run-id <id>', 'prefix of write keys (letters and digits; default: generated)')
    .option('--ledger <file>', 'also write the write ledger as JSON to this file')
    .option('--json', 'print the full result (timeline, ledger, summary) as JSON')
    .option('--allow-remote-target', 'allow a target that is not a loopback address')
    .option('--stack <file>', 'a stack description: its endpoint (URL, CA or insecure, SNI) and workload are the defaults', process.env.FAULTLINE_STACK)
    .option('--out <prometheus[=URL]>', "stream live metrics by remote-write to URL, or to the attached stack's own Prometheus (repeatable)", collect)
    .option('--agents <n>', 'send from N load agents on the swarm (a service on --network), each with its share; their timelines merged exactly')
    .option('--network <name>', "with --agents: the swarm network the target is on; the URL's host must be a service on it (or loopback)")
    .action(
      action(async (url: string | undefined, flags: LoadFlags) => {
        if (!flags.stack) {
          if (!url) throw invalidInput('url', 'required (or --stack FILE, whose endpoint is then the target)');
          return runLoadCommand(url, flags);
        }
        // The description gives what the flags leave out: the flags always win.
        const spec = await loadStackSpec(flags.stack);
        const target = url ?? spec.endpoint.url;
        return runLoadCommand(target, { ...flags, ...flagsFromEndpoint(target, spec.endpoint, flags) }, spec.workload);
      }),
    );
}

/**
 * Progress on stderr: a line a second for a person at a terminal (unless --json), a plain line every 10 s outside one,
 * so a CI log shows a run that is alive.
 */
export function progressFor(stream: NodeJS.WriteStream, json: boolean): { onEvent?: (event: LoadEvent) => void } {
  const write = (text: string) => stream.write(text);
  if (!isInteractive(stream)) return { onEvent: plainProgressListener(write) };
  return json ? {} : { onEvent: progressListener(write) };
}

/**
 * The load command's core: flags (and a stack description's workload, when one is given) to a run, progress and the
 * printed result; answers the exit code.
 */
export async function runLoadCommand(url: string, flags: LoadFlags, workload?: WorkloadSpec): Promise<number> {
  const input = loadInputFromFlags(url, flags, workload);
  if (flags.agents !== undefined || flags.network !== undefined) return runAgentsLoadCommand(input, flags);
  const interactive = !flags.json && isInteractive(process.stderr);
  const live = await liveOutputsForLoad(flags.out, flags.stack, flags.allowRemoteTarget === true);
  const interrupt = interruptSignal();
  try {
    const progress = progressFor(process.stderr, flags.json === true).onEvent;
    const job = startLoad(input, {
      signal: interrupt.signal,
      ...(progress || live ? { onEvent: (e: LoadEvent) => (progress?.(e), live?.onEvent(e)) } : {}),
    });
    live?.follow(job, { experiment: 'load' });
    const result = await job.result;
    await live?.close();
    if (flags.ledger) writeFileSync(flags.ledger, `${JSON.stringify(result.ledger.toJSON(), null, 2)}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(loadResultToJSON(result))}\n`);
    else process.stdout.write(`${interactive ? formatResult(result) : formatResultLine(result)}\n`);
    return result.stopReason === 'aborted' ? ExitCode.interrupted : ExitCode.ok;
  } finally {
    interrupt.dispose();
  }
}
