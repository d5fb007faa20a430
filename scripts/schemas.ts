// npm run schemas: writes schemas/{experiment,suite,stack}.schema.json from the zod schemas (src/experiment/json-schemas.ts)
// with the shipped faults and probes offered for completion and the zod files' JSDoc comments as descriptions. The
// files are committed and shipped; test/unit/json-schemas.test.ts fails when they are stale.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import ts from 'typescript';
import { faults } from '../src/faults/registry.js';
import { probes } from '../src/probes/registry.js';
import { jsonSchemas, schemaFileName, SCHEMA_KINDS, type NamedEntry, type SchemaInputs, type SchemaKind } from '../src/experiment/json-schemas.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
export const schemasDir = join(root, 'schemas');

/** The modules that build zod schemas (they import zod): their object literals carry the keys' comments. */
function zodFiles(dir = join(root, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? zodFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
    .filter((f) => /^import \{[^}]*\bz\b[^}]*\} from 'zod';$/m.test(readFileSync(f, 'utf8')))
    .sort();
}

/** One paragraph of a JSDoc comment, its lines joined. */
const oneParagraph = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

const keyOf = (p: ts.ObjectLiteralElementLike) => (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined);

/**
 * The JSDoc comment of every key of every object literal in the zod modules (the shapes of z.object, also those
 * built from a spread of a shared shape), by the object's key signature: its keys sorted and joined by ",". zod keeps
 * no comments at run time, and the signature finds the same object in the generated schema.
 */
export function zodKeyComments(files: readonly string[] = zodFiles()): NonNullable<SchemaInputs['descriptions']> {
  const out: Record<string, Record<string, string>> = {};
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    // Shapes declared once and spread into objects (const fields = { … }; z.object({ ...fields, at })).
    const shapes = new Map<string, ts.ObjectLiteralExpression>();
    const collect = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isObjectLiteralExpression(node.initializer))
        shapes.set(node.name.text, node.initializer);
      ts.forEachChild(node, collect);
    };
    collect(source);
    const members = (literal: ts.ObjectLiteralExpression, seen: Set<ts.Node> = new Set()): ts.ObjectLiteralElementLike[] =>
      literal.properties.flatMap((p) => {
        if (!ts.isSpreadAssignment(p)) return [p];
        const shape = ts.isIdentifier(p.expression) ? shapes.get(p.expression.text) : undefined;
        return shape && !seen.has(shape) ? members(shape, new Set([...seen, shape])) : [];
      });
    const visit = (node: ts.Node): void => {
      if (ts.isObjectLiteralExpression(node)) {
        const props = members(node);
        const docs: Record<string, string> = {};
        for (const p of props) {
          const comment = ts
            .getJSDocCommentsAndTags(p)
            .filter(ts.isJSDoc)
            .map((d) => (typeof d.comment === 'string' ? d.comment : ''))
            .join(' ');
          const key = keyOf(p);
          if (comment && key !== undefined) docs[key] = oneParagraph(comment);
        }
        const signature = props
          .flatMap((p) => keyOf(p) ?? [])
          .sort()
          .join(',');
        if (Object.keys(docs).length) out[signature] = { ...docs, ...out[signature] };
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

/** What the shipped schemas are made from: the registered faults and probes, and the zod files' comments. */
export function shippedSchemaInputs(): SchemaInputs {
  const entries = (list: ReadonlyArray<NamedEntry>) => list.map(({ name, description, params }) => ({ name, description, params }));
  return { faults: entries(faults.list()), probes: entries(probes.list()), descriptions: zodKeyComments() };
}

/** The files' text as they should be on disk: formatted as prettier formats JSON here, so format:check passes them. */
export async function expectedSchemaFiles(inputs: SchemaInputs = shippedSchemaInputs()): Promise<Record<SchemaKind, string>> {
  const schemas = jsonSchemas(inputs);
  const out: Partial<Record<SchemaKind, string>> = {};
  for (const kind of SCHEMA_KINDS) {
    const filepath = join(schemasDir, schemaFileName(kind));
    out[kind] = await prettier.format(JSON.stringify(schemas[kind]), { ...(await prettier.resolveConfig(filepath)), filepath });
  }
  return out as Record<SchemaKind, string>;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  mkdirSync(schemasDir, { recursive: true });
  for (const [kind, text] of Object.entries(await expectedSchemaFiles())) {
    writeFileSync(join(schemasDir, schemaFileName(kind as SchemaKind)), text);
    process.stdout.write(`wrote schemas/${schemaFileName(kind as SchemaKind)}\n`);
  }
}
