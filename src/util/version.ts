// faultline's version, read once from package.json (two folders up from src/util and from dist/util alike),
// so `--version` and the journal never disagree with what was released.

import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
