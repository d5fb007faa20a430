// Where `faultline run NAME` and `validate NAME` find NAME: a file as given; else, for a relative name, the user's own
// ./experiments/ first and then the experiments shipped with faultline, so `faultline run web-server-kill` works from
// any folder once faultline is installed. Nothing found leaves the argument as given, so the loader's one-line
// "cannot read" names what the user typed.

import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { shippedExperimentsDir } from '../stack/paths.js';

export interface LocateOptions {
  cwd?: string;
  /** The experiments shipped with faultline (tests pass their own). */
  shippedDir?: string;
  isFile?: (path: string) => boolean;
}

const isFileOnDisk = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The places NAME may be, in the order they are tried (pure). */
export function experimentCandidates(name: string, cwd: string, shippedDir: string): string[] {
  const given = resolve(cwd, name);
  if (isAbsolute(name)) return [given];
  const named = (dir: string) => (/\.ya?ml$/.test(name) ? [join(dir, name)] : [join(dir, `${name}.yaml`), join(dir, `${name}.yml`), join(dir, name)]);
  return [given, ...named(join(cwd, 'experiments')), ...named(shippedDir)];
}

/** The file NAME means, or NAME itself when it is a file as given or when none of its places holds one. */
export function locateExperiment(name: string, options: LocateOptions = {}): string {
  const { cwd = process.cwd(), shippedDir = shippedExperimentsDir, isFile = isFileOnDisk } = options;
  const [given, ...elsewhere] = experimentCandidates(name, cwd, shippedDir);
  // A file as given stays as typed, so the journal and the messages name it as before.
  if (isFile(given!)) return name;
  return elsewhere.find(isFile) ?? name;
}
