// `faultline compare-report <before> <after>` (alias `before-after`): one report of two runs of the same suite, its
// sections from the suite's `report:` (or one per experiment), its columns named by --label or from the journals.

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FaultlineError } from '../../errors.js';
import { loadFile } from '../../experiment/schema.js';
import { action } from '../run-command.js';
import { readJournal } from './experiment.js';
import { compareModel, writeCompareReports } from '../../report/before-after.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerBeforeAfterCommand(program: Command): void {
  program
    .command('compare-report')
    .alias('before-after')
    .description("one report of two runs of the same suite, side by side: the suite's sections, figures and per-second charts (JSON, Markdown, HTML)")
    .argument('<before>', 'journal.json of the first run (e.g. on the baseline profile)')
    .argument('<after>', 'journal.json of the second run (e.g. on the hardened profile)')
    .option('--out <dir>', 'where before-after.json, .md and .html go', 'out/before-after')
    .option('--label <name>', 'a column name, once per run in order (default: the profile, the stack project or the title that tells the runs apart)', collect)
    .option('--suite <file>', "take the sections from this suite file's report: instead of the journals'")
    .option('--json', 'print the three files written as one JSON document ({json, markdown, html})')
    .action(
      action(async (before: string, after: string, flags: { out: string; label?: string[]; suite?: string; json?: boolean }) => {
        const journals = [await readJournal(before), await readJournal(after)] as const;
        let report;
        if (flags.suite) {
          const suite = await loadFile(flags.suite, undefined);
          if (!('suite' in suite)) throw new FaultlineError('INVALID_INPUT', `${flags.suite}: not a suite file`);
          // A suite without report: gets the default sections, as its journals would.
          report = suite.report;
        }
        const model = compareModel({
          journals: [...journals],
          ...(flags.label ? { labels: flags.label } : {}),
          ...(report ? { report } : {}),
          generatedAt: new Date().toISOString(),
        });
        const files = await writeCompareReports(model, resolve(flags.out));
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ json: files.json, markdown: files.markdown, html: files.html }, null, 2)}\n`
            : `${files.json}\n${files.markdown}\n${files.html}\n`,
        );
      }),
    );
}
