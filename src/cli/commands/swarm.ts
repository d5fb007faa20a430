// `faultline swarm up|down|status`: a Docker Swarm of this engine (manager) and docker-in-docker workers.

import type { Command } from 'commander';
import { action, interruptSignal } from '../run-command.js';
import { DockerClient } from '../../stack/docker-client.js';
import { defaultStackOptions } from '../../stack/config.js';
import { invalidInput } from '../../errors.js';
import { swarmDown, swarmStatus, swarmUp, type SwarmStatus } from '../../swarm/local-swarm.js';
import { jsonText } from '../json-output.js';
import { registerSwarmStackCommands } from './swarm-stack.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** One line per node: hostname, role, state, availability, address. Pure. */
export function formatSwarm(s: SwarmStatus): string {
  if (s.state !== 'active') return `this engine is in no swarm (${s.state}); faultline swarm up --nodes N makes one`;
  const head = `swarm: ${s.nodes.length} node(s)${s.madeByFaultline ? ', made by faultline (swarm down removes it)' : ", not faultline's (swarm down leaves it as it is)"}`;
  const width = Math.max(...s.nodes.map((n) => n.hostname.length));
  return [head, ...s.nodes.map((n) => `  ${n.hostname.padEnd(width)}  ${n.role.padEnd(7)}  ${n.state.padEnd(5)}  ${n.availability.padEnd(6)}  ${n.addr}`)].join(
    '\n',
  );
}

export function registerSwarmCommands(program: Command): void {
  const swarm = program.command('swarm').description('a Docker Swarm on this machine: this engine as manager, docker-in-docker workers');
  const home = () => defaultStackOptions().home;

  swarm
    .command('up')
    .description('make this engine a swarm manager (unless it is one faultline made) and start workers until there are N')
    .option('--nodes <n>', 'worker nodes beside this engine (at least: workers already up stay)', '2')
    .option('--json', 'print the nodes as JSON')
    .action(
      action(async (flags: { nodes: string; json?: boolean }) => {
        if (!/^\d+$/.test(flags.nodes)) throw invalidInput('nodes', `"${flags.nodes}" is not a number`);
        const docker = new DockerClient();
        await docker.ping();
        const { signal, dispose } = interruptSignal();
        const started = Date.now();
        try {
          const status = await swarmUp(docker, { nodes: Number(flags.nodes), home: home(), log, signal });
          log(`swarm up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
          process.stdout.write(flags.json ? jsonText(status) : `${formatSwarm(status)}\n`);
        } finally {
          dispose();
        }
      }),
    );

  swarm
    .command('down')
    .description('remove the workers faultline started; nothing of a swarm it did not make')
    .option('--leave', 'also leave the swarm faultline made (this drops the network attachments of every running container on this engine)')
    .option('--json', 'print what was removed as JSON')
    .action(
      action(async (flags: { leave?: boolean; json?: boolean }) => {
        const docker = new DockerClient();
        await docker.ping();
        const summary = await swarmDown(docker, home(), { log, ...(flags.leave ? { leave: true } : {}) });
        if (summary.stayed && !flags.json) log(summary.stayed);
        process.stdout.write(
          flags.json ? jsonText(summary) : `removed ${summary.removedNodes.length} worker(s)${summary.leftSwarm ? '; this engine left the swarm' : ''}\n`,
        );
      }),
    );

  swarm
    .command('status')
    .description('the swarm this engine is in: each node with its role, state and availability')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const docker = new DockerClient();
        await docker.ping();
        const status = await swarmStatus(docker, home());
        process.stdout.write(flags.json ? jsonText(status) : `${formatSwarm(status)}\n`);
      }),
    );

  registerSwarmStackCommands(swarm);
}
