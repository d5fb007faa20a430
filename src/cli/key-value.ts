// The CLI's one reader of key=value words (`fault inject --param k=v`, `probe <name> k=v …`).

import { invalidInput } from '../errors.js';

/**
 * key=value words to an object; pure. The value is everything after the first `=` (it may hold more),
 * both sides are trimmed, a later key wins. `field` names the flag or argument in the error.
 */
export function parseKeyValues(words: readonly string[], field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? '' : word.slice(0, eq).trim();
    if (!key) throw invalidInput(field, `expected key=value, got ${JSON.stringify(word)}`);
    out[key] = word.slice(eq + 1).trim();
  }
  return out;
}
