// `faultline swarm deploy|remove`: the reference stack on the swarm (src/swarm/reference-swarm.ts, docs/swarm.md).

import type { Command } from 'commander';
import { action, interruptSignal } from '../run-command.js';
import { DockerClient } from '../../stack/docker-client.js';
import { invalidInput } from '../../errors.js';
import { ReferenceSwarm, type SwarmTask } from '../../swarm/reference-swarm.js';
import { jsonText } from '../json-output.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface StackFlags {
  project?: string;
  httpsPort?: string;
  httpPort?: string;
  json?: boolean;
}

function port(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw invalidInput(name, `"${value}" is not a port`);
  return Number(value);
}

function referenceSwarm(flags: StackFlags): ReferenceSwarm {
  return new ReferenceSwarm({ project: flags.project, httpsPort: port('https-port', flags.httpsPort), httpPort: port('http-port', flags.httpPort) });
}

/** One line per server: its node and state. Pure. */
export function formatTasks(tasks: SwarmTask[]): string {
  const running = tasks.filter((t) => t.desired === 'running');
  const width = Math.max(0, ...running.map((t) => t.server.length));
  return running.map((t) => `  ${t.server.padEnd(width)}  ${t.node.padEnd(18)}  ${t.state}`).join('\n');
}

export function registerSwarmStackCommands(swarm: Command): void {
  const withStackFlags = (c: Command) =>
    c
      .option('--project <name>', 'the swarm stack’s name (its services are <name>_lb, <name>_web1, …)', 'fl-ref')
      .option('--https-port <port>', 'HTTPS on the manager', '8445')
      .option('--http-port <port>', 'HTTP on the manager', '8082')
      .option('--json', 'print as JSON');

  withStackFlags(
    swarm
      .command('deploy')
      .description('deploy the reference stack on the swarm: servers spread over the nodes, wait until every one runs and HTTPS answers from each web server'),
  ).action(
    action(async (flags: StackFlags) => {
      const stack = referenceSwarm(flags);
      await stack.docker.ping();
      const { signal, dispose } = interruptSignal();
      try {
        const started = Date.now();
        const result = await stack.deploy({ signal, log: (l) => log(`${((Date.now() - started) / 1000).toFixed(1)} s  ${l}`) });
        const s = result.seconds;
        log(`ready in ${s.total} s (build ${s.build} s, ship ${s.ship} s, tasks running ${s.tasks} s, HTTPS from every web server ${s.https} s)`);
        process.stdout.write(
          flags.json
            ? jsonText({ url: stack.httpsUrl, ca: stack.caPath, ...result })
            : `${stack.options.project}: ${stack.httpsUrl} (CA ${stack.caPath})\n${formatTasks(result.tasks)}\n`,
        );
      } finally {
        dispose();
      }
    }),
  );

  withStackFlags(swarm.command('remove').description('remove the reference swarm stack: its services, networks, secrets and volumes, nothing else')).action(
    action(async (flags: StackFlags) => {
      const stack = referenceSwarm(flags);
      await new DockerClient().ping();
      const summary = await stack.remove({ log });
      process.stdout.write(flags.json ? jsonText(summary) : `removed ${stack.options.project}\n`);
    }),
  );
}
