// `faultline schema <experiment|suite|stack>`: the JSON Schema the package ships for that kind of file, for an editor
// (yaml-language-server, VS Code's YAML extension) to validate and complete as you type; --path prints where it is.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { invalidInput } from '../../errors.js';
import { SCHEMA_KINDS, schemaFileName, type SchemaKind } from '../../experiment/json-schemas.js';
import { packageRoot } from '../../stack/paths.js';
import { action } from '../run-command.js';

/** The shipped file: generated from the zod schemas by `npm run schemas`, so it is what validate checks, in JSON Schema. */
export const shippedSchemaPath = (kind: SchemaKind) => join(packageRoot, 'schemas', schemaFileName(kind));

export function registerSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of experiment, suite or stack description files (for editors: yaml-language-server, VS Code)')
    .argument('<kind>', SCHEMA_KINDS.join(' | '))
    .option('--path', 'print the path of the shipped schema file instead')
    .action(
      action(async (kind: string, flags: { path?: boolean }) => {
        if (!(SCHEMA_KINDS as readonly string[]).includes(kind)) throw invalidInput('kind', `unknown "${kind}" (one of ${SCHEMA_KINDS.join(', ')})`);
        const path = shippedSchemaPath(kind as SchemaKind);
        process.stdout.write(flags.path ? `${path}\n` : await readFile(path, 'utf8'));
      }),
    );
}
