// Reading a YAML (or JSON) file's text into plain data, for every file faultline takes: one place that turns a syntax
// error or a document built to exhaust memory (an alias bomb) into the file's problems, never a crash.

import { parseDocument } from 'yaml';
import type { Problem } from '../errors.js';

/** At most this many alias expansions per document: far above any real experiment, far below a billion laughs. */
const MAX_ALIAS_COUNT = 1000;

/** The document as plain data, or its problems (each naming the line where it could). Pure. */
export function readYaml(text: string): { data: unknown } | { problems: Problem[] } {
  const doc = parseDocument(text, { prettyErrors: false });
  const lineOf = (pos: number) => text.slice(0, pos).split('\n').length;
  if (doc.errors.length)
    return { problems: doc.errors.map((e) => ({ path: `line ${lineOf(e.pos[0])}`, message: `not valid YAML: ${e.message.split('\n')[0]}` })) };
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (err) {
    // yaml refuses excessive aliases (and a few other impossible documents) only while building the data.
    return { problems: [{ path: '', message: `not usable YAML: ${(err as Error).message}` }] };
  }
}
