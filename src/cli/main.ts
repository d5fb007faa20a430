// The CLI: parse flags, call the library, set the exit code. No logic of its own.

import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { VERSION } from '../util/version.js';
import { registerStackCommands } from './commands/stack.js';
import { registerLoadCommand } from './commands/load.js';
import { registerProbeCommand } from './commands/probe.js';
import { registerFaultCommands } from './commands/fault.js';
import { registerExperimentCommands } from './commands/experiment.js';
import { registerBeforeAfterCommand } from './commands/before-after.js';
import { registerSwarmCommands } from './commands/swarm.js';
import { registerSchemaCommand } from './commands/schema.js';
import { addPluginOption, loadCliPlugins } from './plugin-flag.js';

const program = new Command();
program
  .name('faultline')
  .description('Chaos and load testing for live web stacks: load, faults, probes, and a report you can read.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
addPluginOption(program);
// Before the commands are made: `fault list`, `probe`'s help and `revert` take the registries as they are then.
const pluginsLoaded = await loadCliPlugins(process.argv.slice(2));

registerStackCommands(program);
registerLoadCommand(program);
registerProbeCommand(program);
registerFaultCommands(program);
registerExperimentCommands(program);
registerBeforeAfterCommand(program);
registerSwarmCommands(program);
registerSchemaCommand(program);

try {
  if (pluginsLoaded) await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit with 0; a usage error is invalid input.
    process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.invalidInput;
  } else {
    throw err;
  }
}
