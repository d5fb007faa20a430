// `--plugin FILE` (repeatable, before or after the command), FAULTLINE_PLUGINS, and the plugins of the `--stack FILE`
// description: loaded before the commands are made, because `fault list`, `probe`'s help and `revert` take the
// registries as they are when their command is made.

import { Command } from 'commander';
import { loadDescriptionPlugins, loadPlugins, pluginsFromEnv } from '../plugins.js';
import { action } from './run-command.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/** Declares --plugin on the program: commander then takes it before or after any command, and help lists it. */
export function addPluginOption(program: Command): Command {
  return program
    .option(
      '--plugin <file>',
      'load a plugin (an ES module, .mjs or .js) with faults, probes or report formats; repeatable (also FAULTLINE_PLUGINS=a.mjs:b.mjs)',
      (v: string, acc: string[] | undefined) => collect(v, acc ?? []),
    )
    .configureHelp({ showGlobalOptions: true });
}

/** The plugin files and the stack description the command line (and the environment) name, before commander parses it (pure). */
export function pluginArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { plugins: string[]; stack: string | undefined } {
  // The same parser commander's own parse uses, knowing only these two options: the rest is the commands' business.
  const scan = new Command()
    .helpOption(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .option('--plugin <file>', '', collect, [])
    .option('--stack <file>');
  try {
    scan.parseOptions(argv);
  } catch {
    // A flag without its value: the real parse says so in its own words.
  }
  const o = scan.opts<{ plugin: string[]; stack?: string }>();
  return { plugins: [...pluginsFromEnv(env), ...o.plugin], stack: o.stack ?? env.FAULTLINE_STACK };
}

/** Loads what `argv` and the environment name; false (after one line on stderr and exit code 2) when a plugin fails. */
export async function loadCliPlugins(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const { plugins, stack } = pluginArgs(argv, env);
  let ok = false;
  await action(async () => {
    await loadPlugins(plugins);
    if (stack) await loadDescriptionPlugins(stack, env);
    ok = true;
  })();
  return ok;
}
