// Runs docker compose (v2 plugin) or docker-compose (v1), whichever this machine has.

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { FaultlineError } from '../errors.js';

const execFileP = promisify(execFile);

export interface ComposeFlavour {
  /** The command and its leading arguments, e.g. ['docker', 'compose'] or ['docker-compose']. */
  argv: string[];
  version: string;
  label: 'compose-v2' | 'compose-v1';
}

let cached: ComposeFlavour | null | undefined;

/** Detects the compose flavour once per process; null when neither is installed. */
export async function detectCompose(): Promise<ComposeFlavour | null> {
  if (cached !== undefined) return cached;
  const candidates: Array<Pick<ComposeFlavour, 'argv' | 'label'>> = [
    { argv: ['docker', 'compose'], label: 'compose-v2' },
    { argv: ['docker-compose'], label: 'compose-v1' },
  ];
  for (const c of candidates) {
    try {
      // docker-compose v1 is Python: on a loaded machine its start-up alone can take many seconds.
      const { stdout } = await execFileP(c.argv[0]!, [...c.argv.slice(1), 'version', '--short'], { timeout: 60_000 });
      cached = { ...c, version: stdout.trim() };
      return cached;
    } catch (err) {
      // Present but too slow to answer is still present; missing (ENOENT, "not a docker command") is not.
      if ((err as { killed?: boolean }).killed) {
        cached = { ...c, version: 'unknown' };
        return cached;
      }
    }
  }
  cached = null;
  return null;
}

export async function requireCompose(): Promise<ComposeFlavour> {
  const flavour = await detectCompose();
  if (!flavour) {
    throw new FaultlineError('COMPOSE_UNAVAILABLE', 'neither `docker compose` nor `docker-compose` is installed', {
      hint: 'apt-get install -y docker-compose (or install the Docker Compose v2 plugin)',
    });
  }
  return flavour;
}

export interface ComposeRun {
  project: string;
  file: string;
  env: Record<string, string>;
  signal?: AbortSignal;
  /** Stream output to the terminal instead of capturing it. */
  inherit?: boolean;
}

/** Runs one compose subcommand; rejects with STACK_FAILED and the tail of its output when it fails. */
export async function compose(flavour: ComposeFlavour, args: string[], run: ComposeRun): Promise<string> {
  const argv = [...flavour.argv.slice(1), '-p', run.project, '-f', run.file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(flavour.argv[0]!, argv, {
      env: { ...process.env, ...run.env },
      stdio: run.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      signal: run.signal,
    });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err) => reject(new FaultlineError('STACK_FAILED', `${flavour.argv.join(' ')} ${args[0]} failed: ${err.message}`, { cause: err })));
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else {
        const tail = output.trim().split('\n').slice(-8).join('\n');
        reject(new FaultlineError('STACK_FAILED', `${flavour.argv.join(' ')} ${args.join(' ')} exited with ${code}: ${tail}`));
      }
    });
  });
}
