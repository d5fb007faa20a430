// Where the package's own files are: the compose files, stack descriptions and image build contexts.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const composeDir = join(packageRoot, 'compose');
