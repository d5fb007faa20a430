// `faultline fault list|inject|status` and `faultline revert`: parse flags, call src/faults, print.

import type { Command } from 'commander';
import { loadPlugin } from '../../plugins.js';
import { action, interruptSignal } from '../run-command.js';
import { parseKeyValues } from '../key-value.js';
import { jsonText, revertJSON } from '../json-output.js';
import { addRemoteTargetFlag, addStackFlags, stackOptionsFrom, type StackFlags } from './stack.js';
import { attachStack } from '../../stack/attach.js';
import { defaultStackOptions } from '../../stack/config.js';
import { revertAgentServices } from '../../swarm/agents.js';
import { ExitCode, FaultlineError, invalidInput } from '../../errors.js';
import { injectUnderLoad, stopWhenProblemsForHold } from '../../experiment/inject-under-load.js';
import { describeStop, type StopCondition } from '../../experiment/stop-conditions.js';
import { formatResultLine } from '../../load/index.js';
import type { AttachedStack } from '../../stack/attached-stack.js';
import { parseStopWhen } from '../stop-when-flag.js';
import { LiveOutputs, collect, parseOutFlags } from '../out-flag.js';
import { flagsFromEndpoint, loadInputFromFlags, type LoadFlags } from './load.js';
import { parseDurationMs, formatDuration, MAX_HOLD_MS } from '../../util/duration.js';
import {
  createFaultContext,
  defaultRegistry,
  formatCatalogue,
  formatPlan,
  formatRecords,
  formatRevertSummary,
  holdFault,
  injectFault,
  planFault,
  redactSecrets,
  revertRecorded,
} from '../../faults/index.js';

interface InjectFlags extends StackFlags {
  target?: string;
  for: string;
  dryRun?: boolean;
  param: string[];
  json?: boolean;
  /** Load at the stack's endpoint beside the fault (`--load N` stays cpu-stress's --param load=N). */
  underLoad?: boolean;
  rate?: string;
  connections?: string;
  mix?: string;
  bucket?: string;
  stopWhen: string[];
  out?: string[];
  [named: string]: unknown;
}

/** The load flags `--under-load` takes (the rest of `faultline load`'s options keep their defaults). */
const LOAD_FLAGS = ['rate', 'connections', 'mix', 'bucket', 'out'] as const;

/** Named flags that are shorthands for --param key=value. */
const NAMED_PARAMS = ['port', 'delay', 'jitter', 'loss', 'component', 'from', 'to', 'workers', 'load', 'size', 'grace'] as const;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The load flags given with --under-load. */
function pick(flags: InjectFlags): LoadFlags {
  return Object.fromEntries(LOAD_FLAGS.filter((f) => flags[f] !== undefined).map((f) => [f, flags[f]])) as LoadFlags;
}

/** Collects --param key=value pairs and the named shorthands into one object; pure. */
export function collectParams(flags: Pick<InjectFlags, 'param'> & Record<string, unknown>): Record<string, string> {
  const params = parseKeyValues(flags.param, 'param');
  for (const name of NAMED_PARAMS) {
    const v = flags[name];
    if (typeof v === 'string') params[name] = v;
  }
  return params;
}

export function registerFaultCommands(program: Command): void {
  const fault = program.command('fault').description('inject faults into a live stack, and undo them');
  const registry = defaultRegistry();

  fault
    .command('list')
    .description('the catalogue of faults, their parameters and default targets')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const defs = registry.list();
        process.stdout.write(
          flags.json
            ? `${JSON.stringify(
                defs.map((d) => ({ name: d.name, kind: d.kind, description: d.description, defaultTarget: d.defaultTarget ?? null })),
                null,
                2,
              )}\n`
            : `${formatCatalogue(defs)}\n\ntargets: key=value[,key=value] with keys service, server, role, component, name, id; prefix all:, random:, count:N: or percent:N:\n`,
        );
      }),
    );

  const inject = addRemoteTargetFlag(
    addStackFlags(fault.command('inject').description('inject a fault, hold it for a while, then revert it (Ctrl-C reverts at once)')),
  )
    .argument('<name>', 'fault name (see `faultline fault list`)')
    .option('--target <expr>', 'which containers or servers, e.g. server=db-primary, all:component=nginx, random:role=web, count:2:role=web')
    .option('--for <duration>', 'how long to hold the fault', '30s')
    .option('--dry-run', 'print what would be done, change nothing')
    .option('--param <key=value>', 'a fault parameter (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print the fault record as JSON once it is active')
    .option('--under-load', "run load at the stack's endpoint beside the fault, from before it is injected until it is reverted")
    .option('--rate <n>', 'with --under-load: paced load at this rate in req/s (or a ramp like 100..1000)')
    .option('--connections <n>', 'with --under-load: closed load on this many connections (default 10)')
    .option('--mix <spec>', "with --under-load: requests by ratio, e.g. read=9,write=1 (default the workload's mix)")
    .option('--bucket <d>', 'with --under-load: timeline bucket width (default 100ms)')
    .option('--out <prometheus[=URL]>', "with --under-load: stream live metrics by remote-write to URL or the stack's own Prometheus (repeatable)", collect)
    .option(
      '--stop-when <condition>',
      'with --under-load: revert at once and exit 6 when e.g. "availability<0.5 over 5s" or "p99_ms>2000 over 10s" (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    );
  for (const name of NAMED_PARAMS) inject.option(`--${name} <value>`, `same as --param ${name}=<value>`);
  inject.action(
    action(async (name: string, flags: InjectFlags) => {
      // Everything the user typed is validated before the stack is touched.
      const holdMs = parseDurationMs(flags.for);
      if (holdMs === null || holdMs <= 0) throw invalidInput('for', `"${flags.for}" is not a positive duration (e.g. 30s, 5m)`);
      // A day at most, as in an experiment file: a chaos fault held longer is a change, not an experiment.
      if (holdMs > MAX_HOLD_MS) throw invalidInput('for', `"${flags.for}" is longer than a day (24h), the longest hold`);
      const stopWhen = loadFlagsChecked(flags, holdMs);
      const configured = registry.configure(name, { target: flags.target, params: collectParams(flags) });
      const stack = await attachStack(stackOptionsFrom(flags));
      // The hold here is exact (a stop condition only shortens it), so the switch needs no extension past it.
      const ctx = createFaultContext(stack, { log, holdMs, holdExtensionMs: 0 });
      const { signal, dispose } = interruptSignal();
      try {
        if (flags.dryRun) {
          process.stdout.write(`${formatPlan(name, await planFault(ctx, configured, signal))}\n`);
          return ExitCode.ok;
        }
        if (flags.underLoad) return await injectWithLoad(stack, ctx, configured, flags, holdMs, stopWhen, signal);
        const started = Date.now();
        const active = await injectFault(ctx, configured, signal, { holdMs });
        const check = await active.check().catch(() => ({ active: true, detail: 'in effect' }));
        const holding = `holding ${formatDuration(holdMs)} (Ctrl-C reverts now)`;
        process.stdout.write(
          flags.json
            ? `${JSON.stringify(redactSecrets(active.record))}\n`
            : `fault ${active.id} active after ${formatDuration(Date.now() - started)}: ${check.detail}; ${holding}\n`,
        );
        try {
          await holdFault(active, holdMs, signal);
        } catch (err) {
          // Only a revert that happened may be reported: a failed one is REVERT_FAILED (exit 4), also after Ctrl-C.
          if (!signal.aborted || !active.reverted) throw err;
          log(`fault ${active.id} reverted after interrupt`);
          return ExitCode.interrupted;
        }
        log(`fault ${active.id} reverted; the stack is as it was`);
        return ExitCode.ok;
      } finally {
        dispose();
      }
    }),
  );

  /** `--under-load` and its flags, checked before the stack is touched: the stop conditions they give. */
  function loadFlagsChecked(flags: InjectFlags, holdMs: number): StopCondition[] {
    const withLoad = flags.underLoad === true;
    if (!withLoad && flags.stopWhen.length) throw invalidInput('--stop-when', 'needs --under-load: stop conditions are checked on the load beside the fault');
    const stray = LOAD_FLAGS.find((f) => flags[f] !== undefined);
    if (!withLoad && stray) throw invalidInput(`--${stray}`, 'needs --under-load (the load beside the fault)');
    parseOutFlags(flags.out, { dir: false });
    const stopWhen = flags.stopWhen.map(parseStopWhen);
    const bucketMs = flags.bucket === undefined ? undefined : (parseDurationMs(flags.bucket) ?? undefined);
    const problem = stopWhenProblemsForHold(stopWhen, holdMs, bucketMs)[0];
    if (problem) throw invalidInput('--stop-when', `${JSON.stringify(flags.stopWhen[problem.index])}: the window ${problem.message}`);
    return stopWhen;
  }

  /** The fault held under load: a breach reverts it at once and exits 6; without one, the load's summary after the revert. */
  async function injectWithLoad(
    stack: AttachedStack,
    ctx: ReturnType<typeof createFaultContext>,
    configured: ReturnType<typeof registry.configure>,
    flags: InjectFlags,
    holdMs: number,
    stopWhen: StopCondition[],
    signal: AbortSignal,
  ): Promise<number> {
    const url = stack.spec.endpoint.url;
    const loadFlags: LoadFlags = { ...pick(flags), ...(flags.allowRemoteTarget ? { allowRemoteTarget: true } : {}) };
    const input = loadInputFromFlags(url, { ...loadFlags, ...flagsFromEndpoint(url, stack.spec.endpoint, loadFlags) }, stack.spec.workload);
    let active: { id: string; reverted: boolean } | undefined;
    const live = flags.out?.length ? new LiveOutputs(parseOutFlags(flags.out, { dir: false }), flags.allowRemoteTarget === true) : null;
    await live?.prepare(stack);
    const planned = [{ name: configured.definition.name, target: flags.target ?? configured.definition.defaultTarget ?? '', atMs: 0 }];
    try {
      const outcome = await injectUnderLoad(ctx, configured, {
        load: input,
        holdMs,
        stopWhen,
        signal,
        log,
        ...(live ? { onLoadEvent: live.onEvent, onLoadStart: (job) => live.follow(job, { experiment: 'fault-inject', faults: planned }, stack) } : {}),
        onActive: (fault, afterMs) => {
          active = fault;
          const holding = `holding ${formatDuration(holdMs)} under load${stopWhen.length ? ` until a stop condition fires` : ''} (Ctrl-C reverts now)`;
          process.stdout.write(
            flags.json ? `${JSON.stringify(redactSecrets(fault.record))}\n` : `fault ${fault.id} active after ${formatDuration(afterMs)}; ${holding}\n`,
          );
        },
      });
      // With --json, stdout holds the record alone; the summary and the stop go beside the logs.
      const say = flags.json ? log : (line: string) => process.stdout.write(`${line}\n`);
      say(formatResultLine(outcome.load));
      if (outcome.stop) {
        // "fault … reverted, load stopped at t=12.3 s: availability 0.120 (< 0.5 over 5 s, 412 requests); first revert 2 ms later"
        say(`fault ${outcome.fault.id} reverted, load ${describeStop(outcome.stop)}`);
        return ExitCode.stopped;
      }
      log(`fault ${outcome.fault.id} reverted; the stack is as it was`);
      return ExitCode.ok;
    } catch (err) {
      if (!signal.aborted || !active?.reverted) throw err;
      log(`fault ${active.id} reverted after interrupt; load stopped`);
      return ExitCode.interrupted;
    } finally {
      await live?.close();
    }
  }

  addStackFlags(fault.command('status').description('faults recorded for this stack (active or left behind)'))
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: StackFlags & { json?: boolean }) => {
        const ctx = createFaultContext(await attachStack(stackOptionsFrom(flags)));
        const records = await ctx.store.list();
        process.stdout.write(flags.json ? `${JSON.stringify(redactSecrets(records), null, 2)}\n` : `${formatRecords(records)}\n`);
      }),
    );

  addStackFlags(
    program.command('revert').description('undo faults recorded for this stack whose holder is gone (--all: every one), and remove leftover helpers'),
  )
    .option('--all', 'also faults held by a running faultline')
    .option('--json', 'print the summary (reverted, skipped, failed, helpers removed) as JSON')
    .action(
      action(async (flags: StackFlags & { all?: boolean; json?: boolean }) => {
        const ctx = createFaultContext(await attachStack(stackOptionsFrom(flags)), { log });
        // A plugin's fault names its plugin file: load it, so the fault can be undone without --plugin.
        const plugins = [...new Set((await ctx.store.list()).flatMap((r) => (r.plugin && !registry.has(r.fault) ? [r.plugin] : [])))];
        for (const file of plugins) await loadPlugin(file).catch((err: Error) => log(`faultline: ${err.message}; its faults stay recorded`));
        const summary = await revertRecorded(ctx, plugins.length ? defaultRegistry() : registry, { all: flags.all ?? false, log });
        // Load agents a killed faultline left on the swarm (none on an engine that is no swarm manager). Not with --all:
        // agents belong to no stack, and a live run's must not be taken by another stack's revert.
        const agents = await revertAgentServices(defaultStackOptions().home).catch(() => []);
        if (agents.length) log(`removed load agents left behind: ${agents.join(', ')}`);
        const code = summary.failed.length ? new FaultlineError('REVERT_FAILED', '').exitCode : ExitCode.ok;
        process.stdout.write(flags.json ? jsonText(revertJSON(summary, code)) : `${formatRevertSummary(summary)}\n`);
        if (summary.failed.length) {
          throw new FaultlineError('REVERT_FAILED', `${summary.failed.length} fault(s) could not be reverted`, {
            hint: `they stay recorded in ${ctx.store.path}`,
          });
        }
      }),
    );
}
