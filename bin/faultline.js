#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm ci builds it through `prepare`; npm run build
// rebuilds it). Without a build it says so in one line, with an exit code of its own, not a stack trace.
import { existsSync } from 'node:fs';

/** Not one of the CLI's own codes (0–4, 130): a script can tell "never built" from a failed run. */
const NOT_BUILT = 5;

const main = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(main)) {
  await import(main.href);
} else {
  process.stderr.write('faultline: not built; run npm run build\n');
  process.exitCode = NOT_BUILT;
}
