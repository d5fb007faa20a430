// `faultline load … --agents N --network NET`: the load from N agents on the swarm, merged exactly, printed as a load is,
// with a line per agent. Live as one process: progress a line a second (every 10 s outside a terminal) and `--out
// prometheus` from the seconds every agent's share of has arrived. An agent that died makes the exit code 3 (the
// instrument failed), after the result is printed.

import { writeFileSync } from 'node:fs';
import { ExitCode, invalidInput } from '../../errors.js';
import { formatAgents } from '../../load/agents.js';
import { formatResult, formatResultLine, isInteractive, loadResultToJSON } from '../../load/index.js';
import type { LoadEvent, LoadOptionsInput } from '../../load/index.js';
import { defaultStackOptions } from '../../stack/config.js';
import { startAgentsJob } from '../../swarm/agents-job.js';
import { liveOutputsForLoad } from '../out-flag.js';
import { interruptSignal } from '../run-command.js';
import { progressFor } from './load.js';

export interface AgentsFlags {
  agents?: string;
  network?: string;
  workers?: string;
  out?: string[];
  json?: boolean;
  ledger?: string;
  stack?: string;
  allowRemoteTarget?: boolean;
}

export async function runAgentsLoadCommand(input: LoadOptionsInput, flags: AgentsFlags): Promise<number> {
  if (!/^\s*\d+\s*$/.test(flags.agents ?? '')) throw invalidInput('agents', `must be a whole number, got ${JSON.stringify(flags.agents)}`);
  if (!flags.network) throw invalidInput('network', 'required with --agents: the swarm network the target is on (the agents join it)');
  if (flags.workers !== undefined) throw invalidInput('workers', 'cannot be combined with --agents: each agent runs its share on one thread');
  const live = await liveOutputsForLoad(flags.out, flags.stack, flags.allowRemoteTarget === true);
  const interrupt = interruptSignal();
  try {
    const progress = progressFor(process.stderr, flags.json === true).onEvent;
    const run = startAgentsJob(
      {
        input,
        agents: Number(flags.agents),
        network: flags.network,
        home: defaultStackOptions().home,
        // On a shared swarm each team deploys under its own prefix.
        ...(process.env.FAULTLINE_AGENTS_PREFIX ? { namePrefix: process.env.FAULTLINE_AGENTS_PREFIX } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      },
      { signal: interrupt.signal, ...(progress || live ? { onEvent: (e: LoadEvent) => (progress?.(e), live?.onEvent(e)) } : {}) },
    );
    void run.job.result.catch(() => undefined);
    await run.started;
    live?.follow(run.job, { experiment: 'load' });
    const { result: merged, agents, ledgers } = await run.outcome;
    const result = await run.job.result.catch(() => merged);
    await live?.close();
    if (flags.ledger) writeFileSync(flags.ledger, `${JSON.stringify(result.ledger.toJSON(), null, 2)}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify({ ...loadResultToJSON(result), agents, ledgers })}\n`);
    else process.stdout.write(`${isInteractive(process.stderr) ? formatResult(result) : formatResultLine(result)}\n${formatAgents(agents)}\n`);
    return agents.some((a) => a.state === 'died') ? ExitCode.environment : ExitCode.ok;
  } finally {
    interrupt.dispose();
  }
}
