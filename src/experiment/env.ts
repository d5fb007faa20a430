// ${VAR} and ${VAR:-default} in experiment files, so a CI job can tighten a bar without editing the file.

import { invalidInput } from '../errors.js';

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces variables in every string of a parsed YAML value; a missing variable without default is an error naming the field. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.exec(value);
    const replaced = value.replace(PATTERN, (_, name: string, fallback: string | undefined) => {
      const v = env[name] ?? fallback;
      if (v === undefined) throw invalidInput(path || '(root)', `environment variable ${name} is not set and has no default`);
      return v;
    });
    // A whole-value number ("${MAX_P99:-300}") becomes a number, so numeric fields accept it.
    if (whole && /^-?\d+(\.\d+)?$/.test(replaced)) return Number(replaced);
    return replaced;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, path ? `${path}.${k}` : k)]));
  }
  return value;
}
