// ${VAR} and ${VAR:-default} in experiment files, so a CI job can tighten a bar without editing the file.

import { invalidInput } from '../errors.js';
import type { Problem } from '../util/zod.js';
import { TEMPLATE_VARIABLES } from '../load/workload-spec.js';

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces variables in every string of a parsed YAML value. A missing variable without default is an error
 * naming the field: thrown, or, given `problems`, added there (every one of them) with the string left as it was.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path = '', problems?: Problem[]): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.exec(value);
    const replaced = value.replace(PATTERN, (match, name: string, fallback: string | undefined) => {
      // ${key}, ${id}, … in a workload's templates are filled per request, not from the environment.
      if (fallback === undefined && (TEMPLATE_VARIABLES as readonly string[]).includes(name)) return match;
      const v = env[name] ?? fallback;
      if (v !== undefined) return v;
      const message = `environment variable ${name} is not set and has no default`;
      if (!problems) throw invalidInput(path || '(root)', message);
      problems.push({ path, message });
      return match;
    });
    // A whole-value number ("${MAX_P99:-300}") becomes a number, so numeric fields accept it.
    if (whole && /^-?\d+(\.\d+)?$/.test(replaced)) return Number(replaced);
    return replaced;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${path}[${i}]`, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, path ? `${path}.${k}` : k, problems)]));
  }
  return value;
}
