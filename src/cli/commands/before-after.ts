// `faultline before-after <baseline> <hardened>`: one report of the same suite run on both profiles.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { action } from '../run-command.js';
import { readJournal } from './experiment.js';
import { beforeAfterModel, renderBeforeAfterHtml, renderBeforeAfterMarkdown } from '../../report/before-after.js';

export function registerBeforeAfterCommand(program: Command): void {
  program
    .command('before-after')
    .description('one before/after report of the same suite run on the baseline and on the hardened profile')
    .argument('<baseline>', 'journal.json of the run on the baseline profile')
    .argument('<hardened>', 'journal.json of the run on the hardened profile')
    .option('--out <dir>', 'where before-after.json, .md and .html go', 'out/before-after')
    .action(
      action(async (baseline: string, hardened: string, flags: { out: string }) => {
        const model = beforeAfterModel({ baseline: await readJournal(baseline), hardened: await readJournal(hardened), generatedAt: new Date().toISOString() });
        const out = resolve(flags.out);
        await mkdir(out, { recursive: true });
        const files = { json: join(out, 'before-after.json'), markdown: join(out, 'before-after.md'), html: join(out, 'before-after.html') };
        await writeFile(files.json, `${JSON.stringify(model, null, 2)}\n`);
        await writeFile(files.markdown, renderBeforeAfterMarkdown(model));
        await writeFile(files.html, renderBeforeAfterHtml(model));
        process.stdout.write(`${files.json}\n${files.markdown}\n${files.html}\n`);
      }),
    );
}
