// Where the package's own files are: the compose files, stack descriptions, image build contexts and the shipped
// experiments. Found from this module's own place (dist/stack/ in a build, src/stack/ under tsx), so an installed
// faultline finds them inside its own install, whatever folder it runs from; state never goes here (~/.faultline).

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const composeDir = join(packageRoot, 'compose');
export const shippedExperimentsDir = join(packageRoot, 'experiments');
