// What a run is given: the registries it draws faults and probes from, and the options of one run.

import type { LoadEvent, LoadJob } from '../load/index.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { Experiment } from './schema.js';
import type { FaultRegistry } from '../faults/index.js';
import type { AnyProbe } from '../probes/types.js';
import type { AttachOptions } from '../stack/attach.js';

export interface ProbeCatalogue {
  get(name: string): AnyProbe;
  list(): AnyProbe[];
}

export interface RunnerDeps {
  faults: FaultRegistry;
  probes: ProbeCatalogue;
}

export interface ExperimentRunOptions {
  signal: AbortSignal;
  log?: (line: string) => void;
  onLoadEvent?: (event: LoadEvent) => void;
  /** Each experiment's load, once started, on its attached stack (live outputs follow it: `--out prometheus`). */
  onLoadStart?: (job: LoadJob, exp: Experiment, stack: AttachedStack) => void;
  /** Stack options from the command line (--stack FILE among them); the experiment's own stack wins. */
  stack?: AttachOptions;
  versions?: Record<string, string>;
  /** Run each experiment this many times (`--repeat N`): wins over a suite's and an experiment's `repeat:`. */
  repeat?: number;
}

export type { Log } from '../stack/ready.js';
