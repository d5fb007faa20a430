// `faultline load … --agents N --network NET`: the load from N agents on the swarm, merged exactly, printed as a load is,
// with a line per agent. An agent that died makes the exit code 3 (the instrument failed), after the result is printed.

import { writeFileSync } from 'node:fs';
import { ExitCode, invalidInput } from '../../errors.js';
import { formatAgents } from '../../load/agents.js';
import { formatResult, formatResultLine, isInteractive, loadResultToJSON } from '../../load/index.js';
import type { LoadOptionsInput } from '../../load/index.js';
import { defaultStackOptions } from '../../stack/config.js';
import { runAgents } from '../../swarm/agents.js';
import { interruptSignal } from '../run-command.js';

export interface AgentsFlags {
  agents?: string;
  network?: string;
  workers?: string;
  out?: string[];
  json?: boolean;
  ledger?: string;
}

export async function runAgentsLoadCommand(input: LoadOptionsInput, flags: AgentsFlags): Promise<number> {
  if (!/^\s*\d+\s*$/.test(flags.agents ?? '')) throw invalidInput('agents', `must be a whole number, got ${JSON.stringify(flags.agents)}`);
  if (!flags.network) throw invalidInput('network', 'required with --agents: the swarm network the target is on (the agents join it)');
  if (flags.workers !== undefined) throw invalidInput('workers', 'cannot be combined with --agents: each agent runs its share on one thread');
  if (flags.out?.length) throw invalidInput('out', 'cannot be combined with --agents yet: the agents are merged once they are done');
  const interrupt = interruptSignal();
  try {
    const { result, agents, ledgers } = await runAgents({
      input,
      agents: Number(flags.agents),
      network: flags.network,
      home: defaultStackOptions().home,
      // On a shared swarm each team deploys under its own prefix.
      ...(process.env.FAULTLINE_AGENTS_PREFIX ? { namePrefix: process.env.FAULTLINE_AGENTS_PREFIX } : {}),
      signal: interrupt.signal,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (flags.ledger) writeFileSync(flags.ledger, `${JSON.stringify(result.ledger.toJSON(), null, 2)}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify({ ...loadResultToJSON(result), agents, ledgers })}\n`);
    else process.stdout.write(`${isInteractive(process.stderr) ? formatResult(result) : formatResultLine(result)}\n${formatAgents(agents)}\n`);
    return agents.some((a) => a.state === 'died') ? ExitCode.environment : ExitCode.ok;
  } finally {
    interrupt.dispose();
  }
}
