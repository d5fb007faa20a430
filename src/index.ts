// faultline's one public entry point (`import { … } from 'faultline'`): what a program or a user's own test suite needs to
// start or attach to a stack, run load, inject and revert a fault, run a probe, run an experiment or suite and render its
// reports, and to extend the registries. Everything here is re-exported from the module that owns it; nothing is defined
// here, so the CLI and the library can never differ. Grouped by concern, in the order a run uses them.

// ── Stacks: start the reference stack, or attach to one that runs (yours, through a stack description) ──────────────

/** Attaches to a running stack: the reference stack by its project, or any stack through `stackFile`/`spec`. */
export { attachStack, type AttachOptions } from './stack/attach.js';
/** The reference stack faultline builds and starts itself: `new ReferenceStack().up()` starts it (or finds it running). */
export { ReferenceStack } from './stack/reference-stack.js';
/** A live stack faults, probes and load work on: its containers, endpoint URL, CA and TLS options, status and readiness. */
export { AttachedStack } from './stack/attached-stack.js';
/** Where and how a stack runs (project, profile, ports, state folder), as `ReferenceStack` and `attachStack` take it. */
export type { StackOptions } from './stack/config.js';
/** Reads and checks a stack description file (`--stack FILE`), as `attachStack({ spec })` takes it. */
export { loadStackSpec, parseStackSpec, type StackSpec } from './stack/spec.js';
/** One container of a stack, with the server, component and role faultline gave it. */
export type { ContainerSummary } from './stack/docker-client.js';
/** The Docker Engine client every stack, fault and probe goes through. */
export { DockerClient } from './stack/docker-client.js';

// ── Load: paced or closed load at an endpoint, with a live timeline ────────────────────────────────────────────────

/** Starts load and answers a job at once (stop it, watch its timeline, mark fault windows); `runLoad` awaits the result. */
export { startLoad, runLoad } from './load/index.js';
/** The one-line and the full text summary of a load result, as the CLI prints them. */
export { formatResult, formatResultLine } from './load/index.js';
/** A load result as JSON and back (the timeline's histograms encoded). */
export { loadResultToJSON, loadResultFromJSON, type LoadResultJSON } from './load/index.js';
/** The load's timeline: one bucket per `bucketMs`, with counts and latency histograms. */
export { Timeline } from './load/index.js';
/** Live metrics out: a load's per-second figures pushed by Prometheus remote-write once each second is final (`follow(job, …)`). */
export { RemoteWriteOutput, type RemoteWriteOptions, type RemoteWriteStats } from './load/remote-write.js';
/** The load's options, its job, events, result and summary. */
export type {
  LoadOptionsInput,
  LoadJob,
  LoadEvent,
  LoadTick,
  LoadResult,
  LoadSummary,
  LatencySummary,
  StopReason,
  FaultWindow,
  MixEntry,
  RateInput,
} from './load/index.js';

// ── Faults: configure, inject, hold and revert (always reverted, also after a crash) ───────────────────────────────

/** Every fault faultline knows (`faults`, register yours there), a registry of one's own (`defaultRegistry()`) and its class. */
export { faults, defaultRegistry, FaultRegistry, type ConfiguredFault } from './faults/index.js';
/** The context faults run in: the stack, Docker, the state file that records every fault before it takes effect. */
export { createFaultContext } from './faults/index.js';
/** Plans (changes nothing), injects, holds (then reverts) a configured fault; `revertRecorded` undoes what a state file lists. */
export { planFault, injectFault, holdFault, revertRecorded, type RevertSummary } from './faults/index.js';
/** A fault held under load: the load starts first, stop conditions are watched live, a breach reverts the fault at once. */
export { injectUnderLoad, type InjectUnderLoadOptions, type InjectUnderLoadOutcome } from './experiment/inject-under-load.js';
/** What a fault is and what it leaves: its definition (to write one), plan, record, check and the active fault handle. */
export type {
  FaultDefinition,
  AnyFaultDefinition,
  FaultKind,
  FaultContext,
  FaultPlan,
  FaultRecord,
  FaultCheck,
  ActiveFault,
  RecordUpdate,
} from './faults/index.js';

// ── Stop conditions: when a run must end early ────────────────────────────────────────────────────────────────────

/** Parses one stop condition (`{ metric: 'availability', below: 0.5, over: '5s' }`), as an experiment's `stop_when` holds it. */
export { stopConditionSchema, STOP_METRICS, type StopCondition, type StopRecord, type StopMetric } from './experiment/stop-conditions.js';
/** The first condition a timeline breaches at a time (pure), and how a condition and a stop read in words. */
export { checkStop, describeCondition, describeStop } from './experiment/stop-conditions.js';

// ── Probes: look at the stack and judge what is seen ──────────────────────────────────────────────────────────────

/** Every probe faultline knows (register yours there) and one by name (UNKNOWN_NAME with the nearest name otherwise). */
export { probes, getProbe } from './probes/index.js';
/** Runs a probe once (or on an interval while something lasts) and answers its observation. */
export { runProbe, runContinuously, type ContinuousOptions } from './probes/index.js';
/** For writing a probe: builds its observation, and marks when its look started. */
export { observation, startMark } from './probes/index.js';
/** An observation in words, and a list of findings, as the CLI prints them. */
export { renderObservation, renderFindings } from './probes/index.js';
/** What a probe is, what it is given and what it answers. */
export type { Probe, AnyProbe, ProbeContext, Observation, Finding, Severity, Tolerance } from './probes/index.js';

// ── Experiments and suites: files, validation, runs and their journals ───────────────────────────────────────────

/** Reads an experiment or suite file (YAML), validated against a catalogue of faults and probes. */
export { loadFile, validateExperiment, isSuite } from './experiment/schema.js';
/** The catalogue a file is validated against: the registered faults and probes (or the registries given). */
export { catalogue } from './experiment/catalogue.js';
/** What an experiment or suite file holds, once validated. */
export type { Experiment, Suite, ExperimentInput, Catalogue, AssertionSpec } from './experiment/schema.js';
/** Runs one experiment (`ExperimentRunner`) or a file, experiment or suite (`runFile`), and answers the journal. */
export { ExperimentRunner, type ExperimentRunOptions, type RunnerDeps, type ProbeCatalogue } from './experiment/runner.js';
/** Runs an experiment or a suite in order (a suite stops on a failure unless it continues, always on a damaged stack). */
export { runFile, leftStackDamaged } from './experiment/suite.js';
/** The journal of a run: every activity, observation, assertion and rollback, what every report is rendered from. */
export { experimentsOf, suiteStatus } from './experiment/journal.js';
/** The journal's types. */
export type {
  Journal,
  ExperimentJournal,
  SuiteJournal,
  ExperimentStatus,
  ActivityRecord,
  ActivityStatus,
  AssertionResult,
  Phase,
} from './experiment/journal.js';

// ── Reports: render a journal, write the files and the bundle, compare two runs ──────────────────────────────────

/** Every report format (markdown, html, junit, …; register yours there) and what a format is. */
export { reportFormats, type ReportFormat } from './report/formats.js';
/** Writes journal.json and one file per format into a folder; `writeBundle` adds the .tar.gz with logs and samples. */
export { writeReports, writeBundle, type ReportFiles } from './report/bundle.js';
/** One journal rendered as Markdown. */
export { renderMarkdown } from './report/markdown.js';
/** One journal rendered as a self-contained HTML page. */
export { renderHtml } from './report/html.js';
/** One journal rendered as JUnit XML, for CI. */
export { renderJunit } from './report/junit.js';
/** Two journals compared metric by metric, and the comparison in words. */
export { compareJournals, formatComparison } from './report/compare.js';

// ── Extension and errors ────────────────────────────────────────────────────────────────────────────────────────

/** The registry every extension point is (faults, probes, report formats): register, get (with the nearest name), list. */
export { Registry } from './registry.js';
/** Plugins: a module whose default export (`Plugin`) gets the registries and helpers (`PluginApi`); `loadPlugins` imports them once each. */
export { loadPlugin, loadPlugins, loadedPlugins, type Plugin, type PluginApi } from './plugins.js';
/** The one error faultline throws, with a code and its exit code; `ExitCode` maps outcomes to process exit codes. */
export { FaultlineError, InvalidFileError, ExitCode, isAbortError, type ErrorCode } from './errors.js';
