// Plugins: a team's own faults, probes and report formats in an ES module of their own, loaded at run time. A plugin's
// default export is called with the registries the built-ins are in (and the few helpers a fault or probe needs), so it
// registers into the faultline that loads it: a plugin beside a globally installed CLI that imported 'faultline' itself
// would get another copy, whose registries that CLI never reads. Loaded once per file; any failure is one line naming
// the plugin file, exit 2, before anything runs.

import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { FaultlineError, InvalidFileError, type Problem } from './errors.js';
import { faults, type FaultRegistry } from './faults/registry.js';
import { assertStackContainer, resolveContainers, toRef } from './faults/targets.js';
import { armScript, disarmScript, switchArgv, switchSeconds } from './faults/switch.js';
import { probes } from './probes/registry.js';
import { observation, startMark } from './probes/runner.js';
import type { AnyProbe } from './probes/types.js';
import { reportFormats, type ReportFormat } from './report/formats.js';
import { experimentsOf } from './experiment/journal.js';
import { substituteEnv } from './experiment/env.js';
import type { Registry } from './registry.js';
import { booleanField, durationField, integer, numberField, percent, portListField } from './util/params.js';
import { request } from './util/http.js';
import { retryUntil } from './util/retry.js';
import { sleep } from './util/sleep.js';
import { readYaml } from './util/yaml.js';
import { noteFaultOrigin } from './faults/origins.js';
import { VERSION } from './util/version.js';

/** What a plugin is given: the registries to add to, faultline's version, and helpers so it needs no faultline import. */
export interface PluginApi {
  /** The faultline that loads the plugin (package.json's version), e.g. to refuse one that is too old. */
  readonly version: string;
  /** The plugin's own file, absolute. */
  readonly file: string;
  /** Every fault faultline knows: `faults.register(definition)` (a FaultDefinition, see src/faults/types.ts). */
  readonly faults: FaultRegistry;
  /** Every probe: `probes.register(probe)` (a Probe, see src/probes/types.ts). */
  readonly probes: Registry<AnyProbe>;
  /** Every report format: `reportFormats.register({ name, file, render })`; written next to journal.json by every run. */
  readonly reportFormats: Registry<ReportFormat>;
  /** The zod faultline validates with: parameter and record schemas are made with it. */
  readonly z: typeof z;
  /** The one error faultline throws; its code decides the exit status (INVALID_INPUT: 2, TARGET_UNREACHABLE: 3, …). */
  readonly FaultlineError: typeof FaultlineError;
  /** Parameter fields that take a value as the command line gives it (a string) or as a file does (typed). */
  readonly params: {
    duration: typeof durationField;
    number: typeof numberField;
    integer: typeof integer;
    percent: typeof percent;
    boolean: typeof booleanField;
    ports: typeof portListField;
  };
  /** For faults: a target expression to the stack's own containers (never another's), and the check right before acting. */
  readonly targets: { resolveContainers: typeof resolveContainers; toRef: typeof toRef; assertStackContainer: typeof assertStackContainer };
  /**
   * For faults that change a running container: argv for `ctx.docker.exec` that runs `before` (shell), then leaves a
   * sleeper in that container running `undo` once the fault's maximum duration has passed; `disarm` is revert's argv.
   */
  readonly deadMansSwitch: {
    arm(faultId: string, maxDurationMs: number, undo: string, before?: string): string[];
    disarm(faultId: string): string[];
  };
  /** For probes: builds an Observation, from the mark taken when the look started. */
  readonly observation: typeof observation;
  readonly startMark: typeof startMark;
  /** One-shot HTTP(S) for checks and probes (verify against the stack's CA: `ctx.stack.tlsOptions(await ctx.stack.ca())`). */
  readonly request: typeof request;
  /** The one polling helper (timeout, interval, abort signal), and an abortable sleep. */
  readonly retryUntil: typeof retryUntil;
  readonly sleep: typeof sleep;
  /** For report formats: the experiments of a journal (one, or each of a suite's). */
  readonly experimentsOf: typeof experimentsOf;
}

/** A plugin module's default export. In a .mjs file: `/** @type {import('faultline').Plugin} *\/ export default (faultline) => { … }`. */
export type Plugin = (faultline: PluginApi) => void | Promise<void>;

/** How long a plugin's import and registration may take: registering is quick; one that hangs must not hang every command. */
const PLUGIN_TIMEOUT_MS = 30_000;

/** Plugins by real path: a second load of the same file (an experiment's plugins and --plugin naming it) is the first one. */
const loaded = new Map<string, Promise<void>>();

/** The plugin files loaded so far (real paths), in load order. */
export function loadedPlugins(): string[] {
  return [...loaded.keys()];
}

function apiFor(file: string): PluginApi {
  return {
    version: VERSION,
    file,
    faults,
    probes,
    reportFormats,
    z,
    FaultlineError,
    params: { duration: durationField, number: numberField, integer, percent, boolean: booleanField, ports: portListField },
    targets: { resolveContainers, toRef, assertStackContainer },
    deadMansSwitch: {
      arm: (faultId, maxDurationMs, undo, before = '') =>
        switchArgv(faultId, `${before ? `${before}\n` : ''}${armScript(faultId, switchSeconds(maxDurationMs), undo)}`),
      disarm: (faultId) => switchArgv(faultId, disarmScript(faultId)),
    },
    observation,
    startMark,
    request,
    retryUntil,
    sleep,
    experimentsOf,
  };
}

/** The plugin file as a message names it: as given, relative to the current folder when it is inside it (pure). */
function shown(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Why an import failed, in a few words (pure). */
export function importFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ERR_UNKNOWN_FILE_EXTENSION')
    return 'Node cannot import this file type without a loader (TypeScript needs compiling to .mjs or .js first, or node --import=tsx)';
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  return `cannot be imported: ${err instanceof SyntaxError ? 'syntax error: ' : ''}${message}`;
}

/** A registry's "registered twice" in the plugin's words: the name it tried to add exists already. */
function causeOf(err: unknown): string {
  if (err instanceof FaultlineError && err.code === 'INTERNAL') {
    const twice = /^(.+) (\S+) is registered twice$/.exec(err.message);
    if (twice) return `registers ${twice[1]} "${twice[2]}", which exists already (built in, or registered by another plugin)`;
  }
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

async function importAndRegister(file: string): Promise<void> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new Error(importFailure(err), { cause: err });
  }
  if (typeof mod.default !== 'function') throw new Error('has no default export function (export default function (faultline) { … })');
  const before = new Set(faults.names());
  try {
    await (mod.default as Plugin)(apiFor(file));
  } catch (err) {
    throw new Error(causeOf(err), { cause: err });
  } finally {
    // Each fault this plugin added is recorded with its file, so a revert in a fresh process can load it again.
    for (const name of faults.names()) if (!before.has(name)) noteFaultOrigin(name, file);
  }
}

/**
 * Loads one plugin file (relative to the current folder) and calls its default export with the registries. The same
 * file (by real path) loads once; a second call answers the first's outcome. Any failure is one INVALID_INPUT error
 * naming the file: not found, not importable, no default function, it threw, or it registered a name that exists.
 */
export function loadPlugin(path: string): Promise<void> {
  const abs = resolve(path);
  if (!existsSync(abs)) return Promise.reject(new FaultlineError('INVALID_INPUT', `plugin ${shown(abs)}: not found`));
  if (!statSync(abs).isFile()) return Promise.reject(new FaultlineError('INVALID_INPUT', `plugin ${shown(abs)}: not a file`));
  const file = realpathSync(abs);
  const known = loaded.get(file);
  if (known) return known;
  const promise = (async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not finish registering within ${PLUGIN_TIMEOUT_MS / 1000} s`)), PLUGIN_TIMEOUT_MS);
    });
    try {
      await Promise.race([importAndRegister(file), late]);
    } catch (err) {
      throw new FaultlineError('INVALID_INPUT', `plugin ${shown(file)}: ${(err as Error).message}`, { cause: (err as Error).cause ?? err });
    } finally {
      clearTimeout(timer);
    }
  })();
  loaded.set(file, promise);
  return promise;
}

/** Loads plugin files in order (each relative to the current folder); the first failure stops the rest. */
export async function loadPlugins(paths: readonly string[]): Promise<void> {
  for (const p of paths) await loadPlugin(p);
}

/** FAULTLINE_PLUGINS: plugin files separated by the platform's path delimiter (":" on Linux), for CI (pure). */
export function pluginsFromEnv(env: NodeJS.ProcessEnv = process.env, delimiter = process.platform === 'win32' ? ';' : ':'): string[] {
  return (env.FAULTLINE_PLUGINS ?? '')
    .split(delimiter)
    .map((p) => p.trim())
    .filter(Boolean);
}

/** A document's `plugins:` when it is a list of strings, ${VAR} replaced (anything else is left to the schema to report; pure). */
export function pluginList(doc: unknown, env: NodeJS.ProcessEnv = process.env): string[] {
  const list = doc && typeof doc === 'object' ? (doc as { plugins?: unknown }).plugins : undefined;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p.length > 0)) return [];
  const problems: Problem[] = [];
  const out = list.map((p) => substituteEnv(p, env, '', problems));
  return problems.length || !out.every((p) => typeof p === 'string') ? [] : (out as string[]);
}

/** Each of `list` (relative to `base`) loaded in order; a failure is the file's problem at `field[i]`. */
async function loadListed(list: string[], base: string, file: string, field: string, wrap: (p: Problem) => Problem = (p) => p, root?: string): Promise<void> {
  for (const [i, p] of list.entries()) {
    try {
      await loadPlugin(resolve(base, p));
    } catch (err) {
      if (!(err instanceof FaultlineError)) throw err;
      throw new InvalidFileError(file, [wrap({ path: `${field}[${i}]`, message: err.message })], root);
    }
  }
}

/** A stack description file's raw document, or undefined when it cannot be read (its loader says why later). */
function rawDescription(path: string): unknown {
  try {
    const read = readYaml(readFileSync(path, 'utf8'));
    return 'problems' in read ? undefined : read.data;
  } catch {
    return undefined;
  }
}

/**
 * The plugins an experiment file names, imported before the file is validated (the catalogue check needs their
 * names): its own `plugins:`, its inline stack description's, and those of the description its `stack.file` names,
 * each relative to the file that lists it. A failure is the experiment file's problem, one line.
 */
export async function loadFilePlugins(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const base = dirname(file);
  await loadListed(pluginList(raw, env), base, file, 'plugins');
  const stack = raw && typeof raw === 'object' ? (raw as { stack?: unknown }).stack : undefined;
  if (!stack || typeof stack !== 'object') return;
  const { description, file: described } = stack as { description?: unknown; file?: unknown };
  await loadListed(pluginList(description, env), base, file, 'stack.description.plugins');
  if (typeof described !== 'string') return;
  const path = resolve(base, String(substituteEnv(described, env, '', [])));
  await loadListed(pluginList(rawDescription(path), env), dirname(path), file, 'plugins', (p) => ({
    path: 'stack.file',
    message: `${path}: ${p.path}: ${p.message}`,
  }));
}

/** The plugins a stack description file (`--stack FILE`) names, relative to it; an unreadable description is left to its loader. */
export async function loadDescriptionPlugins(path: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const abs = resolve(path);
  const list = pluginList(rawDescription(abs), env);
  // Named under "stack", as every problem of a description is.
  if (list.length) await loadListed(list, dirname(abs), abs, 'plugins', undefined, 'stack');
}
