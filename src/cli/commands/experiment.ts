// `faultline run | validate | list | report | compare`: experiments and their reports.

import { VERSION } from '../../util/version.js';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadedPlugins, loadPlugin } from '../../plugins.js';
import { action, interruptSignal } from '../run-command.js';
import { addRemoteTargetFlag, addStackFlags, stackOptionsFrom } from './stack.js';
import { progressFor } from './load.js';
import { ExitCode, FaultlineError, type ErrorCode } from '../../errors.js';
import { loadFile, MAX_REPEAT, type Experiment, type Suite } from '../../experiment/schema.js';
import { locateExperiment } from '../../experiment/locate.js';
import { attachForDryRun, dryRunExitCode, planMethod } from '../../experiment/dry-run.js';
import { checkProfiles } from '../../experiment/profile-check.js';
import { formatTimeline } from '../../faults/format.js';
import type { AttachOptions } from '../../stack/attach.js';
import { catalogue, probeCatalogue } from '../../experiment/catalogue.js';
import { runFile } from '../../experiment/suite.js';
import { experimentsOf, type Journal } from '../../experiment/journal.js';
import { defaultRegistry, type FaultRegistry } from '../../faults/index.js';
import { writeBundle, writeReports, type ReportFiles } from '../../report/bundle.js';
import { compareJournals, formatComparison } from '../../report/compare.js';
import { attachStack, checkTargets } from '../../stack/attach.js';
import { DockerClient } from '../../stack/docker-client.js';
import { STATUS_LABEL } from '../../report/format.js';
import { packageRoot } from '../../stack/config.js';
import { dryRunJSON, jsonText, listJSON, runJSON, validateJSON, type ListEntry, type ValidateOutcome } from '../json-output.js';
import { LiveOutputs, collect, parseOutFlags, plannedFaults, recordLiveMetrics } from '../out-flag.js';
import type { LoadEvent } from '../../load/types.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** --repeat's value: a whole number within the schema's bounds, else one INVALID_INPUT line (exit 2). */
export function repeatCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPEAT)
    throw new FaultlineError('INVALID_INPUT', `--repeat: expected a whole number from 1 to ${MAX_REPEAT}, got "${value}"`);
  return n;
}

/** 0 passed, 1 an assertion or hypothesis failed, 3 the environment failed, 6 a stop condition fired, 130 interrupted. */
export function exitCodeFor(j: Journal): number {
  switch (j.status) {
    case 'passed':
      return ExitCode.ok;
    case 'failed':
    case 'steady-state-failed':
      return ExitCode.failed;
    case 'interrupted':
      return ExitCode.interrupted;
    case 'stopped':
      return ExitCode.stopped;
    default: {
      const runs = experimentsOf(j);
      if (runs.some((e) => e.rollbacks.some((r) => r.status !== 'succeeded'))) return ExitCode.revertFailed;
      // Bad input found only once the stack was looked at (a description naming a missing service) is still exit 2.
      return runs.some((e) => e.errorCode && new FaultlineError(e.errorCode as ErrorCode, '').exitCode === ExitCode.invalidInput)
        ? ExitCode.invalidInput
        : ExitCode.environment;
    }
  }
}

/** `faultline run`'s list of what it wrote: one line per report format, then the bundle (pure). */
export function summaryLines(files: ReportFiles): string[] {
  const line = (label: string, path: string) => `  ${`${label}:`.padEnd(7)} ${path}\n`;
  return [...files.reports.map((r) => line(r.format.label ?? r.format.name, r.path)), ...(files.bundle ? [line('bundle', files.bundle)] : [])];
}

/** A journal.json from a run; anything else is one INVALID_INPUT line naming the file. */
export async function readJournal(path: string): Promise<Journal> {
  try {
    const j = JSON.parse(await readFile(path, 'utf8')) as Journal;
    if (j?.version !== 1 || (j.kind !== 'experiment' && j.kind !== 'suite')) throw new Error('not a faultline journal');
    return j;
  } catch (err) {
    throw new FaultlineError('INVALID_INPUT', `${path}: ${(err as Error).message}`);
  }
}

/**
 * `run --dry-run`: each experiment's method planned against its running stack (attached, never brought up) and printed
 * as a timeline; nothing is injected. Exit 2 when a target does not resolve or exceeds max_targets.
 */
async function dryRunFile(target: Experiment | Suite, faults: FaultRegistry, options: AttachOptions, json = false): Promise<number> {
  const { signal, dispose } = interruptSignal();
  let code: number = ExitCode.ok;
  const plans: Parameters<typeof dryRunJSON>[0] = [];
  try {
    for (const exp of 'experiments' in target ? target.experiments : [target]) {
      const stack = await attachForDryRun(exp, options);
      const entries = await planMethod(exp, stack, faults, signal);
      const header = { title: exp.title, id: exp.id, stack: stack.project, loadMs: exp.load.duration, maxTargets: exp.max_targets };
      // With --json the timeline moves to stderr, so stdout holds exactly one document.
      (json ? process.stderr : process.stdout).write(`${formatTimeline(header, entries)}\n`);
      plans.push({ header, entries });
      if (code === ExitCode.ok) code = dryRunExitCode(entries);
    }
  } finally {
    dispose();
  }
  if (json) process.stdout.write(jsonText(dryRunJSON(plans, code)));
  return code;
}

export function registerExperimentCommands(program: Command): void {
  addRemoteTargetFlag(addStackFlags(program.command('run').description('run an experiment or a suite and write its reports')))
    .argument('<file>', 'experiment or suite (YAML), or the name of one in ./experiments/ or shipped with faultline')
    .option('--out <dir|prometheus[=URL]>', 'where reports go (default out); prometheus[=URL] also streams live metrics by remote-write (repeatable)', collect)
    .option('--no-bundle', 'skip the .tar.gz artifact bundle')
    .option('--dry-run', 'resolve every fault target against the running stack and print the timeline; bring up or inject nothing')
    .option('--json', "print the journal's path, the status, the exit code and the report files as JSON")
    .option('--repeat <n>', `run each experiment n times (1–${MAX_REPEAT}; a suite round by round): reports give each figure's median and interval`)
    .action(
      action(async (file: string, flags: Record<string, string | boolean | undefined>) => {
        const outs = parseOutFlags(flags.out as string[] | undefined);
        const repeat = flags.repeat === undefined ? undefined : repeatCount(String(flags.repeat));
        const target = await loadFile(locateExperiment(file), catalogue());
        // An experiment declared for another profile is refused here, before the engine is asked (exit 7), dry run too.
        checkProfiles(target, stackOptionsFrom(flags as never));
        // After the file: the faults its plugins registered while it was read are in it.
        const faults = defaultRegistry();
        // Where the run would send traffic is settled before the engine is even asked (the runner checks again on attach).
        for (const e of 'experiments' in target ? target.experiments : [target])
          if (e.stackSpec) checkTargets(e.stackSpec, stackOptionsFrom(flags as never).allowRemoteTarget);
        const docker = new DockerClient();
        await docker.ping();
        if (flags.dryRun) return dryRunFile(target, faults, stackOptionsFrom(flags as never), flags.json === true);
        const { signal, dispose } = interruptSignal();
        // Progress goes to stderr, so --json leaves it as it is: a line a second at a terminal, one per 10 s in a log.
        const progress = progressFor(process.stderr, false).onEvent;
        const live = new LiveOutputs(outs, stackOptionsFrom(flags as never).allowRemoteTarget === true);
        const defaultTarget = (name: string) => (faults.has(name) ? faults.get(name).defaultTarget : undefined);
        try {
          // A receiver the address rule refuses is exit 2 before anything starts, when the stack already runs.
          const spec = 'experiments' in target ? target.experiments.find((e) => e.stackSpec)?.stackSpec : target.stackSpec;
          await live.prepareEarly(() => attachStack({ ...stackOptionsFrom(flags as never), ...(spec ? { spec } : {}) }));
          const journal = await runFile(
            target,
            { faults, probes: probeCatalogue },
            {
              signal,
              log,
              stack: stackOptionsFrom(flags as never),
              ...(repeat === undefined ? {} : { repeat }),
              versions: { faultline: VERSION, node: process.versions.node, docker: (await docker.version()).version },
              ...(progress || live.any ? { onLoadEvent: (e: LoadEvent) => (progress?.(e), live.onEvent(e)) } : {}),
              ...(live.any
                ? { onLoadStart: (job, exp, stack) => live.follow(job, { experiment: exp.id, faults: plannedFaults(exp.method, defaultTarget) }, stack) }
                : {}),
              onExperimentDone: (j, i, n) => log(`${n > 1 ? `[${i + 1}/${n}] ` : ''}${j.id}: ${STATUS_LABEL[j.status] ?? j.status} — ${j.reason}`),
            },
          );
          await live.close();
          recordLiveMetrics(journal, live.targets());
          if (loadedPlugins().length) journal.plugins = loadedPlugins();
          const out = resolve(outs.dir ?? 'out');
          const described = 'experiments' in target ? target.experiments.find((e) => e.stackSpec)?.stackSpec : target.stackSpec;
          const stack = await attachStack({ ...stackOptionsFrom(flags as never), ...(described ? { spec: described } : {}) }).catch(() => undefined);
          const files = flags.bundle === false ? await writeReports(journal, out) : await writeBundle(journal, out, stack);
          const label = STATUS_LABEL[journal.status] ?? journal.status;
          // With --json the human summary moves to stderr, so stdout holds exactly one document.
          (flags.json ? process.stderr : process.stdout).write(`${label}: ${journal.title}\n${summaryLines(files).join('')}`);
          if (flags.json) process.stdout.write(jsonText(runJSON(journal.status, journal.title, exitCodeFor(journal), files)));
          return exitCodeFor(journal);
        } finally {
          dispose();
        }
      }),
    );

  program
    .command('validate')
    .description('check an experiment or suite file without running anything')
    .argument('<files...>', 'experiment or suite files, or names of shipped ones')
    .option('--json', 'print each file as ok with its summary, or its problems, as JSON')
    .action(
      action(async (files: string[], flags: { json?: boolean }) => {
        const cat = catalogue();
        const outcomes: ValidateOutcome[] = [];
        // Every file, and every problem in each: one line per problem, naming the file and the field path.
        for (const f of files) {
          try {
            const t = await loadFile(locateExperiment(f), cat);
            const summary =
              'suite' in t ? `suite of ${t.experiments.length} experiments` : `${t.method.length} method step(s), ${t.assertions.length} assertion(s)`;
            outcomes.push({ file: f, ok: true, summary });
            (flags.json ? process.stderr : process.stdout).write(`ok  ${f}: ${summary}\n`);
          } catch (err) {
            if (!(err instanceof FaultlineError) || err.code !== 'INVALID_INPUT') throw err;
            outcomes.push({ file: f, ok: false, problems: err.message.split('\n') });
            process.stderr.write(`${err.message}\n`);
          }
        }
        const code = outcomes.every((o) => o.ok) ? ExitCode.ok : ExitCode.invalidInput;
        if (flags.json) process.stdout.write(jsonText(validateJSON(outcomes, code)));
        return code;
      }),
    );

  program
    .command('list')
    .description('list the experiments shipped in experiments/ (or in a folder)')
    .argument('[dir]', 'folder of experiment files', join(packageRoot, 'experiments'))
    .option('--json', 'print the list as JSON')
    .action(
      action(async (dir: string, flags: { json?: boolean }) => {
        const cat = catalogue();
        const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
        const entries: ListEntry[] = [];
        for (const n of names) {
          const name = n.replace(/\.ya?ml$/, '');
          try {
            const t = await loadFile(join(dir, n), cat);
            entries.push({ name, title: t.title, ...('suite' in t ? { suite: t.experiments.map((e) => e.id) } : {}) });
            if (!flags.json)
              process.stdout.write(`${name.padEnd(26)} ${'suite' in t ? `[suite: ${t.experiments.map((e) => e.id).join(', ')}] ` : ''}${t.title}\n`);
          } catch (err) {
            const [first = '', ...more] = (err as Error).message.split('\n');
            entries.push({ name, invalid: [first, ...more] });
            if (!flags.json) process.stdout.write(`${name.padEnd(26)} INVALID: ${first}${more.length ? ` (and ${more.length} more)` : ''}\n`);
          }
        }
        if (flags.json) process.stdout.write(jsonText(listJSON(dir, entries)));
      }),
    );

  program
    .command('report')
    .description('render the reports again from a journal.json')
    .argument('<journal>', 'journal.json of an earlier run')
    .option('--out <dir>', 'where reports go (default: next to the journal)')
    .option('--json', "print the journal's path, the status, the exit code and the report files as JSON (as run --json)")
    .action(
      action(async (path: string, flags: { out?: string; json?: boolean }) => {
        const journal = await readJournal(path);
        // The run's plugins are loaded again for their report formats (a plugin file since gone: one line, the rest render).
        for (const file of journal.plugins ?? []) await loadPlugin(file).catch((err: Error) => log(`faultline: ${err.message}; its report format is skipped`));
        const files = await writeReports(journal, resolve(flags.out ?? join(path, '..')));
        process.stdout.write(
          flags.json ? jsonText(runJSON(journal.status, journal.title, exitCodeFor(journal), files)) : files.reports.map((r) => `${r.path}\n`).join(''),
        );
        return exitCodeFor(journal);
      }),
    );

  program
    .command('compare')
    .description('what got better or worse between two runs (journal.json files)')
    .argument('<before>')
    .argument('<after>')
    .option('--json', 'print the comparison as JSON')
    .action(
      action(async (a: string, b: string, flags: { json?: boolean }) => {
        const result = compareJournals(await readJournal(a), await readJournal(b));
        process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatComparison(result)}\n`);
        return result.changes.some((c) => c.change === 'worse') || result.statusChanges.some((s) => s.after !== 'passed' && s.before === 'passed')
          ? ExitCode.failed
          : ExitCode.ok;
      }),
    );
}
