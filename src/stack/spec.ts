// A stack description: what faultline needs to know about a live stack it did not start (its compose project,
// which service plays which part, the public endpoint, the workload, how to read written data back, the exposure
// policy, Prometheus). The reference stack ships its own (compose/faultline.stack.yaml), so both run one code path.

import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FaultlineError, InvalidFileError } from '../errors.js';
import { TEMPLATE_VARIABLES } from '../load/workload-spec.js';
import { zodProblems, type Problem } from '../util/zod.js';
import { readYaml } from '../util/yaml.js';
import { interpolate } from './compose-model.js';
import { stackSpecSchema, type StackSpec } from './spec-schema.js';

export { stackSpecSchema } from './spec-schema.js';
export type * from './spec-schema.js';

/** Splits a string around the workload's own template variables (kept in the odd parts). */
const TEMPLATE_VARIABLE = new RegExp(`(\\$\\{(?:${TEMPLATE_VARIABLES.join('|')})\\})`);

/** A description's problems, every one at once: the one invalid-file error, its fields named under "stack". */
export function invalidStackSpec(file: string, problems: Problem[]): InvalidFileError {
  return new InvalidFileError(file, problems, 'stack');
}

/** Replaces ${VAR}, ${VAR:-default} in every string of a parsed document (pure). */
function substitute(value: unknown, vars: Record<string, string | undefined>): unknown {
  // ${key}, ${id}, … in a workload's templates are filled per request, not from the environment.
  if (typeof value === 'string')
    return value
      .split(TEMPLATE_VARIABLE)
      .map((part, i) => (i % 2 ? part : interpolate(part, vars)))
      .join('');
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  return value;
}

/**
 * Validates a parsed description (pure apart from `vars`): `${VAR}` is replaced from vars first; relative paths
 * (the CA, password files) are resolved from the file's folder. Throws the invalid-file error with every problem.
 */
export function parseStackSpec(raw: unknown, file: string, vars: Record<string, string | undefined> = process.env): StackSpec {
  let substituted: unknown;
  try {
    substituted = substitute(raw, vars);
  } catch (err) {
    throw invalidStackSpec(file, [{ path: '', message: (err as Error).message }]);
  }
  const parsed = stackSpecSchema.safeParse(substituted);
  if (!parsed.success) throw invalidStackSpec(file, zodProblems(parsed.error));
  const base = file === '<inline>' ? process.cwd() : dirname(file);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const s = parsed.data;
  return {
    ...s,
    file,
    endpoint: { ...s.endpoint, ...(s.endpoint.ca ? { ca: abs(s.endpoint.ca) } : {}) },
    ...(s.edge
      ? { edge: { ...s.edge, ...(s.edge.ca_key ? { ca_key: abs(s.edge.ca_key) } : {}), ...(s.edge.saved_copy ? { saved_copy: abs(s.edge.saved_copy) } : {}) } }
      : {}),
    databases: Object.fromEntries(
      Object.entries(s.databases).map(([k, d]) => [
        k,
        { ...d, ...(d.password_file ? { password_file: abs(d.password_file) } : {}), ...(d.ca ? { ca: abs(d.ca) } : {}) },
      ]),
    ),
  };
}

/** Reads and validates a description file (YAML or JSON). */
export async function loadStackSpec(path: string, vars: Record<string, string | undefined> = process.env): Promise<StackSpec> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FaultlineError('INVALID_INPUT', `stack: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const read = readYaml(text);
  // Syntax problems name their line in the message: the description's fields are named under "stack".
  if ('problems' in read)
    throw invalidStackSpec(
      file,
      read.problems.map((p) => ({ path: '', message: p.path ? `${p.path}: ${p.message}` : p.message })),
    );
  return parseStackSpec(read.data, file, vars);
}

/** A compose service's part: its faultline.* labels where present, else the description's map (pure). */
export function roleOf(
  spec: Pick<StackSpec, 'services'> | undefined,
  service: string,
  labels: { role: string | undefined; server: string | undefined; component: string | undefined },
): { role: string | undefined; server: string | undefined; component: string | undefined } {
  const m = spec?.services[service];
  return {
    role: labels.role ?? m?.role,
    server: labels.server ?? (m ? (m.server ?? service) : undefined),
    component: labels.component ?? (m ? (m.component ?? service) : undefined),
  };
}

/**
 * Services a description names that the project lacks (pure): each as a problem naming the field, so that a typo
 * is one clear line before anything is touched.
 */
export function missingServices(spec: Pick<StackSpec, 'services' | 'databases' | 'required' | 'prometheus' | 'project'>, present: string[]): Problem[] {
  const have = new Set(present);
  const out: Problem[] = [];
  const list = [...have].sort().join(', ') || 'none running';
  const check = (path: string, service: string | undefined) => {
    if (service !== undefined && !have.has(service)) out.push({ path, message: `project ${spec.project} has no service "${service}" (services: ${list})` });
  };
  for (const s of Object.keys(spec.services)) check(`services.${s}`, s);
  for (const s of spec.required ?? []) check('required', s);
  for (const [k, d] of Object.entries(spec.databases)) check(`databases.${k}.service`, d.service);
  check('prometheus.service', spec.prometheus?.service);
  return out;
}
