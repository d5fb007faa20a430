// `--out`, repeatable: `prometheus=URL` (or `prometheus`: the attached stack's own Prometheus) streams a run's live
// metrics by remote-write; any other value is the folder for the reports (one at most). Parsed before anything starts.

import { invalidInput } from '../errors.js';
import type { PlannedFault } from '../load/remote-write-series.js';
import { RemoteWriteOutput } from '../load/remote-write.js';
import type { LoadEvent, LoadJob } from '../load/types.js';
import { prometheusUrl } from '../probes/prometheus.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { attachStack } from '../stack/attach.js';
import { isLoopbackHost } from '../util/remote-target.js';
import { experimentsOf, type Journal } from '../experiment/journal.js';

/** The output kinds `--out KIND=…` knows. */
export const OUTPUT_KINDS = ['prometheus'] as const;

export interface OutFlags {
  /** The reports' folder, when one was given. */
  dir?: string;
  /** Remote-write receivers: a URL, or null for the attached stack's own Prometheus. */
  prometheus: Array<string | null>;
}

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--out` values to outputs (pure); an unknown kind, a bad URL or a second folder is one INVALID_INPUT line (exit 2). */
export function parseOutFlags(values: readonly string[] | string | undefined, options: { dir: boolean } = { dir: true }): OutFlags {
  const out: OutFlags = { prometheus: [] };
  for (const v of typeof values === 'string' ? [values] : (values ?? [])) {
    const kind = /^([a-z][a-z0-9_-]*)(?:=(.*))?$/s.exec(v);
    if (kind?.[1] === 'prometheus') {
      const url = kind[2];
      if (url === undefined || url === '') out.prometheus.push(null);
      else {
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw invalidInput('--out', `prometheus=${url}: not a URL (e.g. prometheus=http://127.0.0.1:9090/api/v1/write)`);
        }
        if (!['http:', 'https:'].includes(parsed.protocol)) throw invalidInput('--out', `prometheus=${url}: needs an http or https URL`);
        out.prometheus.push(url);
      }
    } else if (kind?.[2] !== undefined) {
      throw invalidInput(
        '--out',
        `${v}: unknown output kind ${kind[1]} (known: ${OUTPUT_KINDS.join(', ')}=URL${options.dir ? ', or a folder for the reports' : ''})`,
      );
    } else if (!options.dir) {
      throw invalidInput('--out', `${v}: expected prometheus or prometheus=URL`);
    } else if (out.dir !== undefined) {
      throw invalidInput('--out', `one folder for the reports, got ${out.dir} and ${v}`);
    } else out.dir = v;
  }
  return out;
}

/**
 * Where a receiver may be: loopback, an address of the attached stack's containers (its own Prometheus), or anywhere
 * with --allow-remote-target (the one rule of util/remote-target.ts, widened by the stack's own containers only).
 */
export async function remoteWriteUrl(target: string | null, stack: AttachedStack | undefined, allowRemote: boolean): Promise<string> {
  if (target === null) {
    if (!stack) throw invalidInput('--out', 'prometheus: needs an attached stack whose description declares its Prometheus');
    return `${await prometheusUrl(stack)}/api/v1/write`;
  }
  const host = hostOf(target);
  if (allowRemote || isLoopbackHost(host)) return target;
  const own = stack ? (await stack.containers()).flatMap((c) => Object.values(c.addresses)) : [];
  if (own.includes(host)) return target;
  throw invalidInput(
    '--out',
    `prometheus=${target}: ${host} is neither loopback nor a container of the attached stack; pass --allow-remote-target to push there`,
  );
}

/**
 * The live outputs of one command: one remote-write output per receiver, each following every load the command runs.
 * Receivers resolve when the first load starts (the stack is attached by then); a refused one is one line, the run goes on.
 */
export class LiveOutputs {
  private readonly outputs: Array<{ target: string | null; url?: Promise<string>; output?: RemoteWriteOutput }>;
  private listeners: Array<(event: LoadEvent) => void> = [];

  constructor(
    flags: OutFlags,
    private readonly allowRemote: boolean,
    private readonly warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.outputs = flags.prometheus.map((target) => ({ target }));
  }

  get any(): boolean {
    return this.outputs.length > 0;
  }

  /** Resolves every receiver now, before anything starts: a refused one throws (exit 2) instead of being one line later. */
  async prepare(stack: AttachedStack | undefined): Promise<void> {
    for (const o of this.outputs) {
      const url = await remoteWriteUrl(o.target, stack, this.allowRemote);
      o.url = Promise.resolve(url);
    }
  }

  /**
   * For a run that attaches (or brings up) its stack itself: the receivers resolve now when nothing or a running stack
   * is needed, so a refused one is exit 2 before anything starts; with the stack not up yet, when the first load starts.
   */
  async prepareEarly(attach: () => Promise<AttachedStack>): Promise<void> {
    const needs = needsStack({ prometheus: this.outputs.map((o) => o.target) }, this.allowRemote);
    const stack = needs ? await attach().catch(() => undefined) : undefined;
    if (!needs || stack) await this.prepare(stack);
  }

  /** A load started (an experiment's, or the command's own): its seconds go to every receiver from now on. */
  follow(job: Pick<LoadJob, 'runId' | 'timeline'>, labels: { experiment: string; faults?: readonly PlannedFault[] }, stack?: AttachedStack): void {
    for (const o of this.outputs) {
      o.url ??= remoteWriteUrl(o.target, stack, this.allowRemote);
      o.output ??= new RemoteWriteOutput({ url: o.url, warn: this.warn });
    }
    this.listeners = this.outputs.map((o) => (o.output as RemoteWriteOutput).follow(job, labels));
  }

  /** The load events, for every output following the current load. */
  readonly onEvent = (event: LoadEvent): void => {
    for (const l of this.listeners) l(event);
  };

  /** The receivers actually pushed to (for the journal and the reports). */
  targets(): string[] {
    return this.outputs.map((o) => o.output?.target).filter((t): t is string => typeof t === 'string');
  }

  /** Waits for what is queued, at most `timeoutMs` in all; never throws. */
  async close(timeoutMs = 5000): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.output?.close(timeoutMs)));
  }
}

/** The faults an experiment's method plans, as its fault_active series label them (the step's target, else the fault's default). */
export function plannedFaults(method: ReadonlyArray<object>, defaultTarget: (fault: string) => string | undefined): PlannedFault[] {
  return method
    .filter((s): s is { fault: string; target?: string | undefined; at: number } => 'fault' in s)
    .map((s) => ({ name: s.fault, target: s.target ?? defaultTarget(s.fault) ?? '', atMs: s.at }));
}

/** Each experiment that ran load records where its live metrics went (the reports name them with the run id to query). */
export function recordLiveMetrics(journal: Journal, targets: readonly string[]): void {
  if (!targets.length) return;
  for (const e of experimentsOf(journal)) if (e.load) e.outputs = targets.map((url) => ({ kind: 'prometheus' as const, url }));
}

/** Whether resolving these receivers needs the attached stack: its own Prometheus, or an address that is not loopback. */
export function needsStack(flags: OutFlags, allowRemote: boolean): boolean {
  return flags.prometheus.some((t) => t === null || (!allowRemote && !isLoopbackHost(hostOf(t))));
}

function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

/**
 * `faultline load --out …`: the receivers, resolved before the load starts (attaching the stack only when one needs it);
 * null without any. Only prometheus outputs: load writes no reports.
 */
export async function liveOutputsForLoad(
  values: readonly string[] | undefined,
  stackFile: string | undefined,
  allowRemote: boolean,
): Promise<LiveOutputs | null> {
  const flags = parseOutFlags(values, { dir: false });
  if (!flags.prometheus.length) return null;
  const live = new LiveOutputs(flags, allowRemote);
  const stack = needsStack(flags, allowRemote)
    ? await attachStack({ ...(stackFile ? { stackFile } : {}), ...(allowRemote ? { allowRemoteTarget: true } : {}) })
    : undefined;
  await live.prepare(stack);
  return live;
}
