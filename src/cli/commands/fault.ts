// `faultline fault list|inject|status` and `faultline revert`: parse flags, call src/faults, print.

import type { Command } from 'commander';
import { action, interruptSignal } from '../run-command.js';
import { parseKeyValues } from '../key-value.js';
import { addRemoteTargetFlag, addStackFlags, stackOptionsFrom, type StackFlags } from './stack.js';
import { attachStack } from '../../stack/attach.js';
import { ExitCode, FaultlineError, invalidInput } from '../../errors.js';
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
  [named: string]: unknown;
}

/** Named flags that are shorthands for --param key=value. */
const NAMED_PARAMS = ['port', 'delay', 'jitter', 'loss', 'component', 'from', 'to', 'workers', 'load', 'size', 'grace'] as const;

const log = (line: string) => process.stderr.write(`${line}\n`);

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
    .option('--json', 'print the fault record as JSON once it is active');
  for (const name of NAMED_PARAMS) inject.option(`--${name} <value>`, `same as --param ${name}=<value>`);
  inject.action(
    action(async (name: string, flags: InjectFlags) => {
      // Everything the user typed is validated before the stack is touched.
      const holdMs = parseDurationMs(flags.for);
      if (holdMs === null || holdMs <= 0) throw invalidInput('for', `"${flags.for}" is not a positive duration (e.g. 30s, 5m)`);
      // A day at most, as in an experiment file: a chaos fault held longer is a change, not an experiment.
      if (holdMs > MAX_HOLD_MS) throw invalidInput('for', `"${flags.for}" is longer than a day (24h), the longest hold`);
      const configured = registry.configure(name, { target: flags.target, params: collectParams(flags) });
      const stack = await attachStack(stackOptionsFrom(flags));
      const ctx = createFaultContext(stack, { log, holdMs });
      const { signal, dispose } = interruptSignal();
      try {
        if (flags.dryRun) {
          process.stdout.write(`${formatPlan(name, await planFault(ctx, configured, signal))}\n`);
          return ExitCode.ok;
        }
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
    .action(
      action(async (flags: StackFlags & { all?: boolean }) => {
        const ctx = createFaultContext(await attachStack(stackOptionsFrom(flags)), { log });
        const summary = await revertRecorded(ctx, registry, { all: flags.all ?? false, log });
        process.stdout.write(`${formatRevertSummary(summary)}\n`);
        if (summary.failed.length) {
          throw new FaultlineError('REVERT_FAILED', `${summary.failed.length} fault(s) could not be reverted`, {
            hint: `they stay recorded in ${ctx.store.path}`,
          });
        }
      }),
    );
}
