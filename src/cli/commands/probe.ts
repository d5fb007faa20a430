// `faultline probe <name> [key=value ...] [--json]`: parse, run one probe against the stack, print, set the exit code.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ExitCode, FaultlineError, invalidInput } from '../../errors.js';
import { loadResultFromJSON, type LoadResultJSON } from '../../load/index.js';
import { attachStack } from '../../stack/stack.js';
import { PROBES, getProbe, parseProbeParams, renderObservation, runProbe, type ProbeContext } from '../../probes/index.js';
import { action, interruptSignal } from '../run-command.js';
import { parseKeyValues } from '../key-value.js';
import { addStackFlags, stackOptionsFrom } from './stack.js';

interface ProbeFlags {
  project?: string;
  httpPort?: string;
  httpsPort?: string;
  netPrefix?: string;
  edgePrefix?: string;
  json?: boolean;
  load?: string;
  window?: string;
  ports?: string;
  maxLag?: string;
}

/** key=value words (and the convenience flags) to a params object; pure, exported for tests. */
export function probeParamsFrom(words: string[], flags: Pick<ProbeFlags, 'window' | 'ports' | 'maxLag'>): Record<string, string> {
  const out = parseKeyValues(words, 'params');
  if (flags.window !== undefined) out.window = flags.window;
  if (flags.ports !== undefined) out.ports = flags.ports;
  if (flags.maxLag !== undefined) out.maxLag = flags.maxLag;
  return out;
}

function readLoad(path: string): Pick<ProbeContext, 'timeline' | 'ledger' | 'faults'> {
  let json: LoadResultJSON;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as LoadResultJSON;
  } catch (err) {
    throw invalidInput('load', `cannot read ${path}: ${(err as Error).message}`);
  }
  const r = loadResultFromJSON(json);
  return { timeline: r.timeline, ledger: r.ledger, faults: r.faults.map((f) => ({ name: f.name, startMs: f.startMs, endMs: f.endMs })) };
}

export function registerProbeCommand(program: Command): void {
  addStackFlags(
    program
      .command('probe')
      .description(`look at the live stack and judge it: ${PROBES.map((p) => p.name).join(', ')}`)
      .argument('<name>', 'probe name')
      .argument('[params...]', 'probe parameters as key=value (e.g. maxLag=2, ports=22,3306)'),
  )
    .option('--json', 'print the observation as JSON')
    .option('--load <file>', 'a load result (faultline load --json) for the client view, recovery and data loss')
    .option('--window <duration>', 'qps: how far back the server view looks without --load (e.g. 30s)')
    .option('--ports <list>', 'exposure: ports to try (comma-separated, at most 64)')
    .option('--max-lag <seconds>', 'replication: largest accepted lag')
    .action(
      action(async (name: string, words: string[], flags: ProbeFlags) => {
        const probe = getProbe(name);
        const raw = probeParamsFrom(words, flags);
        // Validate before touching Docker, so bad input is exit 2 even without a stack.
        parseProbeParams(probe.name, probe.params, raw);
        const loaded = flags.load ? readLoad(flags.load) : {};
        const stack = await attachStack(stackOptionsFrom(flags));
        // Recovery judges a load file only; every other probe looks at the stack, so a stack that is not
        // there is one clear error rather than a page of "unreachable" findings.
        if (probe.name !== 'recovery' && !(await stack.containers()).some((c) => c.state === 'running')) {
          throw new FaultlineError('STACK_FAILED', `stack ${stack.project} is not running; start it with \`faultline stack up\` (same --project and ports)`);
        }
        const { signal, dispose } = interruptSignal();
        try {
          const ctx: ProbeContext = { stack, docker: stack.docker, ...loaded };
          const obs = await runProbe(probe, ctx, raw, signal);
          if (obs.error && !flags.json) throw new FaultlineError(obs.error.code as FaultlineError['code'], `probe ${probe.name}: ${obs.error.message}`);
          process.stdout.write(flags.json ? `${JSON.stringify(obs, null, 2)}\n` : `${renderObservation(obs)}\n`);
          if (obs.error) return new FaultlineError(obs.error.code as FaultlineError['code'], obs.error.message).exitCode;
          return obs.passed ? ExitCode.ok : ExitCode.failed;
        } finally {
          dispose();
        }
      }),
    );
}
