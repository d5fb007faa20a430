// The journal: the record of everything an experiment did. Reports are the journal rendered; nothing in a
// report is computed anywhere else, so `faultline report <journal>` gives the same report later.

import type { LoadResultJSON } from '../load/index.js';
import type { MetricName, Metrics } from '../metric-table.js';
import type { FaultWindow } from '../load/types.js';
import type { SuiteReport } from './suite-report.js';
import type { StackStatus } from '../stack/servers.js';
import type { StopRecord } from './stop-conditions.js';
import type { RunSamples } from './event-samples.js';

export type ActivityStatus = 'succeeded' | 'failed' | 'error' | 'skipped' | 'interrupted';
export type Phase = 'steady-state-before' | 'method' | 'steady-state-after' | 'rollback';

export interface ActivityRecord {
  /** action: a built-in action (`action: exec`, exec-action.ts), in the method or the rollbacks. */
  kind: 'probe' | 'fault' | 'rollback' | 'action';
  name: string;
  title?: string | undefined;
  phase: Phase;
  /** succeeded: ran and (for probes) within tolerance; failed: ran, outside tolerance; error: could not run. */
  status: ActivityStatus;
  start: string;
  end: string;
  /** Offsets from the start of load, when the activity ran during load. */
  startMs?: number | undefined;
  endMs?: number | undefined;
  target?: string | undefined;
  params?: unknown;
  tolerance?: unknown;
  output?: unknown;
  error?: string | undefined;
  /** Which injection this is (1-based) of a fault the method injects several times (`times:`). */
  injection?: number | undefined;
}

export type { FaultWindow };

export interface AssertionResult {
  name: string;
  metric: MetricName;
  /** "≤ 300", "≥ A", "= 0". */
  bound: string;
  value: number | string | null;
  /** null: the metric could not be measured (counts as failed). */
  passed: boolean;
  detail: string;
}

/** stopped: a stop condition (stop_when) fired; its faults were reverted and its load stopped early. */
export type ExperimentStatus = 'passed' | 'failed' | 'error' | 'interrupted' | 'steady-state-failed' | 'stopped';

export interface ExperimentJournal {
  version: 1;
  kind: 'experiment';
  id: string;
  title: string;
  description: string;
  file: string;
  status: ExperimentStatus;
  /** One line: why the status is what it is. */
  reason: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  versions: Record<string, string>;
  stack: StackStatus | null;
  steadyStateBefore: { met: boolean | null; activities: ActivityRecord[] };
  method: ActivityRecord[];
  steadyStateAfter: { met: boolean | null; activities: ActivityRecord[] };
  rollbacks: ActivityRecord[];
  /** The load's fault windows (load.faults, its one record of them), here for the reports. */
  faultWindows: FaultWindow[];
  /** Absolute wall-clock start of load (for Prometheus queries and container logs). */
  loadStartedAt: string | null;
  load: LoadResultJSON | null;
  metrics: Metrics;
  /** Structured details behind the metrics (recovery, data loss, exposure, TLS). */
  findings: Record<string, unknown>;
  /**
   * One sample per event of the run, for the figures that have them: per injection of a fault the method injects
   * several times (`times:`), or per look of a probe in a run without faults (event-samples.ts). A compare report
   * takes them for its median and interval; absent, it takes `metrics`, one value per run.
   */
  samples?: RunSamples | undefined;
  assertions: AssertionResult[];
  /** The stop condition that fired: which, its value and when (ms from the start of load). */
  stop?: StopRecord | undefined;
  /** The plugin files loaded for the run (real paths): `faultline report` loads them again for their report formats. */
  plugins?: string[] | undefined;
  /** Live outputs the load streamed to (`--out prometheus`): series labelled run=load.runId, experiment=id. */
  outputs?: Array<{ kind: 'prometheus'; url: string }> | undefined;
  error?: string | undefined;
  /** The error's stable code (INVALID_INPUT, TARGET_UNREACHABLE, …): it decides the exit status of a run that could not run. */
  errorCode?: string | undefined;
  /** Which repetition this journal is (1-based), inside a repeated experiment's `repetitions`. */
  repetition?: number | undefined;
  /**
   * A repeated experiment (`repeat: N`, `--repeat N`): every repetition's whole journal, in order. The fields above are
   * then the first repetition's, except status, reason, startedAt, endedAt and durationMs, which speak for all of them.
   * Absent (every journal before repetitions, and a run of one): the fields above are the one run.
   */
  repetitions?: ExperimentJournal[] | undefined;
}

export interface SuiteJournal {
  version: 1;
  kind: 'suite';
  id: string;
  title: string;
  description: string;
  file: string;
  status: ExperimentStatus;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  experiments: ExperimentJournal[];
  /** The plugin files loaded for the run (real paths), as on an experiment's journal. */
  plugins?: string[] | undefined;
  /** The suite file's `report:`: what a compare report of two runs of it shows. */
  report?: SuiteReport | undefined;
}

export type Journal = ExperimentJournal | SuiteJournal;

/** Every experiment journal inside a journal (one for an experiment, all for a suite). */
export function experimentsOf(j: Journal): ExperimentJournal[] {
  return j.kind === 'suite' ? j.experiments : [j];
}

/** Every run of an experiment: its repetitions, or the journal itself when it ran once (any journal version). */
export function runsOf(e: ExperimentJournal): ExperimentJournal[] {
  return e.repetitions?.length ? e.repetitions : [e];
}

/**
 * One journal of an experiment's repetitions (pure): the first one's record, the status of all of them (the same as
 * a suite's: any failure fails it, error and interruption win) and a reason that counts them.
 */
export function combineRepetitions(list: ExperimentJournal[]): ExperimentJournal {
  const first = list[0];
  if (!first) throw new RangeError('no repetitions');
  const numbered = list.map((j, i) => ({ ...j, repetition: i + 1 }));
  if (list.length === 1) return first;
  const statuses = new Set(list.map((j) => j.status));
  const status = statuses.size === 1 ? first.status : suiteStatus(list);
  const counts = [...statuses].map((st) => `${list.filter((j) => j.status === st).length} ${st}`).join(', ');
  const odd = numbered.find((j) => j.status === status && j.status !== 'passed');
  const last = list[list.length - 1]!;
  return {
    ...first,
    status,
    reason: `${list.length} repetitions: ${counts}${odd ? `; repetition ${odd.repetition}: ${odd.reason}` : ''}`,
    startedAt: first.startedAt,
    endedAt: last.endedAt,
    durationMs: Date.parse(last.endedAt) - Date.parse(first.startedAt) || list.reduce((sum, j) => sum + j.durationMs, 0),
    repetitions: numbered,
  };
}

/** A suite fails when any experiment failed; error, interruption and a stop win over failure. */
export function suiteStatus(list: ExperimentJournal[]): ExperimentStatus {
  if (list.some((e) => e.status === 'interrupted')) return 'interrupted';
  if (list.some((e) => e.status === 'error')) return 'error';
  if (list.some((e) => e.status === 'stopped')) return 'stopped';
  if (list.some((e) => e.status !== 'passed')) return 'failed';
  return 'passed';
}

/** A journal before anything ran: status `error` until the run says otherwise. */
export function newJournal(
  what: Pick<ExperimentJournal, 'id' | 'title' | 'description' | 'file'>,
  versions: Record<string, string>,
  now: string,
): ExperimentJournal {
  return {
    version: 1,
    kind: 'experiment',
    ...what,
    status: 'error',
    reason: '',
    startedAt: now,
    endedAt: now,
    durationMs: 0,
    versions,
    stack: null,
    steadyStateBefore: { met: null, activities: [] },
    method: [],
    steadyStateAfter: { met: null, activities: [] },
    rollbacks: [],
    faultWindows: [],
    loadStartedAt: null,
    load: null,
    metrics: {},
    findings: {},
    assertions: [],
  };
}
