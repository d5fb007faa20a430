// JSON Schemas for editors (completion, hover, red squiggles as you type) of experiment files, suite files and stack
// descriptions, generated from the zod schemas validate uses, so there is no second hand-written copy to drift. They
// describe the YAML a user writes (zod's input side): durations are the strings people type ("30s"), keys with a
// default are optional, and a value may come from the environment (${VAR}, ${VAR:-default}) where validate
// substitutes it first. Registered faults and probes complete by name and their parameters by key; what only the whole
// file or the catalogue can tell (checks across fields, a parameter's value, whether a name is registered: plugins add
// names at run time) stays validate's, and test/unit/json-schemas.test.ts lists those cases.

import { z } from 'zod';
import { ignoreOverride, zodToJsonSchema } from 'zod-to-json-schema';
import { experimentSchema, suiteSchema } from './schema.js';
import { stackSpecSchema } from '../stack/spec-schema.js';

export const SCHEMA_KINDS = ['experiment', 'suite', 'stack'] as const;
export type SchemaKind = (typeof SCHEMA_KINDS)[number];
export type JsonSchema = Record<string, unknown>;

/** A registered fault or probe, as its registry lists it. */
export interface NamedEntry {
  name: string;
  description: string;
  /** Its parameters (a strict z.object, possibly refined): their names, descriptions and defaults complete `params:`. */
  params?: z.ZodTypeAny;
}

export interface SchemaInputs {
  /** The faults and probes offered for completion (the shipped registries); any other well-formed name is accepted. */
  faults: readonly NamedEntry[];
  probes: readonly NamedEntry[];
  /**
   * Descriptions of object keys, from the JSDoc comments of the zod files (scripts/json-schemas.ts reads them): by
   * an object's key signature (its keys, sorted, joined by ","), then by key. zod keeps no comments at run time.
   */
  descriptions?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Where the files live in the package and in a clone: schemas/<kind>.schema.json. */
export const schemaFileName = (kind: SchemaKind) => `${kind}.schema.json`;

const TITLES: Record<SchemaKind, { title: string; description: string }> = {
  experiment: {
    title: 'faultline experiment',
    description: 'An experiment file: load, a steady state, a method of faults and probes, rollbacks, assertions (faultline validate FILE checks it whole).',
  },
  suite: { title: 'faultline suite', description: 'A suite file: experiment files run one after another, with one report (and a compare report layout).' },
  stack: { title: 'faultline stack description', description: 'A stack description: what faultline needs to know about a live Docker stack it did not start.' },
};

/**
 * Words for the keys whose zod definitions carry no comment (the files' top level, mostly): shown on hover. A key's
 * own comment in the zod file, where there is one, wins.
 */
const KEY_DESCRIPTIONS: Record<SchemaKind, Record<string, string>> = {
  experiment: {
    title: 'What the experiment shows, in a line: the title of its reports.',
    description: 'What it does and why, for the reports.',
    tags: 'Free words to group experiments by.',
    stack: 'The stack it runs against: the reference stack (default), or a description of yours (file or inline), attached, never brought up.',
    load: 'The HTTP load that runs through the whole experiment; faults and probes are placed on its clock.',
    steady_state: 'Probes checked before the method (no fault is injected if one fails) and again after it.',
    method: 'What happens under load: faults (fault, at, for), probes (probe, at | every | during) and actions (action: exec).',
    max_targets: 'The blast radius: no fault step may act on more containers or servers than this (checked before anything is injected).',
    rollbacks: 'Always run, also after Ctrl-C or a failed step; faults are reverted first.',
    assertions: 'The bar the run is judged by: a metric with max, min or equals.',
    'load.driver': 'paced: requests evenly spaced at a rate (open model); closed: a number of connections, each sending as fast as answered.',
    'load.rate': 'Requests per second (the paced driver), or { from, to } for a ramp.',
    'load.connections': 'Connections (the closed driver; the paced driver: its base pool of sockets).',
    'load.duration': 'How long the load runs; every step of the method falls inside it.',
    'load.warmup': 'The first part of the load, left out of the baseline recovery is measured against and of the figures outside faults.',
    'load.bucket': 'The width of a timeline bucket (stop conditions are checked every bucket).',
    'load.max_in_flight': 'At most this many requests outstanding; the rest are counted as dropped.',
    'load.timeout': 'A request without an answer by then counts as timed out (ETIMEDOUT).',
    'load.insecure': 'Skip certificate verification (an explicit, recorded choice).',
  },
  suite: {
    title: 'What the suite shows, in a line: the title of its report.',
    description: 'What it covers and why, for the report.',
    suite: 'The experiment files, relative to this file, run in this order.',
  },
  stack: {
    endpoint: 'The public endpoint load and probes use, and how to trust its certificate.',
    workload: 'The requests of this stack, by name, and their default mix (what --mix and an experiment mix name).',
    databases: 'Databases faultline reads as the operator, by name (for read-backs and replication probes).',
    readback: 'How the data-loss check reads back what a run wrote: the first is the truth, the others are compared with it.',
    exposure: 'The exposure probe: where its vantage points stand, which ports it tries, who may reach what.',
    prometheus: 'Where Prometheus is and what to ask it (the QPS probe, the bundle).',
  },
};

/** The words above, put on the keys that have none. */
function withKeyDescriptions(kind: SchemaKind, body: JsonSchema): JsonSchema {
  for (const [path, description] of Object.entries(KEY_DESCRIPTIONS[kind])) {
    let node: JsonSchema | undefined = body;
    for (const key of path.split('.')) node = (node?.properties as Record<string, JsonSchema> | undefined)?.[key];
    if (node && node.description === undefined) {
      const rest = { ...node };
      for (const k of Object.keys(node)) delete node[k];
      Object.assign(node, { description }, rest);
    }
  }
  return body;
}

/** faultline's duration grammar (src/util/duration.ts): "250ms", "30s", "1.5m", "1h", or a bare number of seconds. */
const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$';
/** A reference to the environment, substituted before validation: ${VAR}, ${VAR:-default} (stack descriptions also ${VAR-default}, ${VAR:?message}). */
const ENV_PATTERN = '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\\}';
const NAME_PATTERN = '^[a-z0-9][a-z0-9-]*$';

/**
 * Where a value may come from the environment. Experiments substitute every string and turn a whole-value number
 * ("${MAX:-300}") into a number; stack descriptions substitute strings only (a port stays a number); suites substitute
 * nothing. A value from the environment can be anything, so the schema accepts it and validate judges the result.
 */
interface EnvMode {
  strings: boolean;
  numbers: boolean;
}
const ENV_MODES: Record<SchemaKind, EnvMode> = {
  experiment: { strings: true, numbers: true },
  stack: { strings: true, numbers: false },
  suite: { strings: false, numbers: false },
};

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

/**
 * A fault or probe name: the registered ones as choices with their descriptions (completion), and any other
 * well-formed name too. Plugins register names at run time, so a schema that refused unknown names would mark valid
 * files red; an unknown name is left to validate, which names the nearest known one.
 */
function nameChoice(kind: 'fault' | 'probe', entries: readonly NamedEntry[], env: EnvMode): JsonSchema {
  return {
    description:
      kind === 'fault' ? 'A fault of the catalogue (faultline fault list), or one a plugin registers.' : 'A probe of the catalogue, or one a plugin registers.',
    anyOf: [
      ...entries.map((e) => ({ const: e.name, description: e.description })),
      { type: 'string', pattern: NAME_PATTERN },
      ...(env.strings ? [ref('env')] : []),
    ],
  };
}

type Def = z.ZodTypeDef & Record<string, unknown>;
const typeName = (def: unknown) => (def as { typeName?: string }).typeName;

/**
 * durationField (src/util/zod.ts), known by what it does: a transform that reads "1.5s" as 1500 ms (or "1h", "1ms"
 * where its bounds leave 1.5 s out). numberField has the same shape and reads none of them.
 */
function isDuration(def: Def): boolean {
  if (typeName(def) !== 'ZodEffects' || (def.effect as { type: string }).type !== 'transform') return false;
  const field = new z.ZodEffects(def as unknown as z.ZodEffectsDef);
  return Object.entries({ '1.5s': 1500, '1h': 3_600_000, '1ms': 1 }).some(([text, ms]) => {
    const read = field.safeParse(text);
    return read.success && read.data === ms;
  });
}

/** The key a zod-to-json-schema path ends in, when it is an object's property. */
function propertyKey(path: readonly string[]): string | undefined {
  return path[path.length - 2] === 'properties' ? path[path.length - 1] : undefined;
}

function withEnv(json: JsonSchema): JsonSchema {
  const { description, default: dflt, ...rest } = json;
  return {
    ...(description !== undefined ? { description } : {}),
    anyOf: [rest, ref('env')],
    ...(dflt !== undefined ? { default: dflt } : {}),
  };
}

/** The schema of one zod schema, input side, with faultline's shared definitions referenced by name. */
function convert(kind: SchemaKind, schema: z.ZodTypeAny, env: EnvMode, inputs: SchemaInputs): JsonSchema {
  const json = zodToJsonSchema(schema, {
    target: 'jsonSchema7',
    // Inline everything but faultline's own definitions below: a file's schema reads top to bottom like the file.
    $refStrategy: 'none',
    // What a user writes, not what the run sees: a duration is its string, a preprocessed value its raw form.
    effectStrategy: 'input',
    pipeStrategy: 'input',
    override: (def, refs) => {
      const d = def as Def;
      const key = propertyKey(refs.currentPath);
      if (isDuration(d)) return ref('duration');
      if (typeName(d) === 'ZodString' && (key === 'fault' || key === 'during')) return ref('fault');
      if (typeName(d) === 'ZodString' && key === 'probe') return ref('probe');
      // stack.description inline is a stack description (validate parses it as one).
      if (key === 'description' && refs.currentPath.slice(-4, -2).join('/') === 'properties/stack' && refs.currentPath.length === 5) return ref('stack');
      return ignoreOverride;
    },
    postProcess: (json, def) => {
      if (!json) return json;
      const d = def as Def;
      let out = json as JsonSchema;
      // stop_when entries name no `kind`: it is filled in (probe or metric) before the discriminated union reads them.
      if (typeName(d) === 'ZodEffects' && (d.effect as { type: string }).type === 'preprocess')
        out = withoutDiscriminator(out, (d.schema as z.ZodTypeAny)._def as Def);
      if (typeName(d) === 'ZodObject') out = withParams(described(out, inputs));
      const constrained = typeName(d) === 'ZodString' && ('pattern' in out || 'format' in out);
      if (env.strings && (constrained || typeName(d) === 'ZodEnum')) return withEnv(out) as typeof json;
      if (env.numbers && typeName(d) === 'ZodNumber') return withEnv(out) as typeof json;
      return out as typeof json;
    },
  }) as JsonSchema;
  delete json.$schema;
  return withKeyDescriptions(kind, json);
}

function withoutDiscriminator(json: JsonSchema, inner: Def): JsonSchema {
  if (typeName(inner) !== 'ZodDiscriminatedUnion') return json;
  const key = inner.discriminator as string;
  const strip = (branch: JsonSchema) => {
    const { [key]: _dropped, ...properties } = (branch.properties ?? {}) as Record<string, unknown>;
    const required = ((branch.required ?? []) as string[]).filter((k) => k !== key);
    return { ...branch, properties, ...(required.length ? { required } : {}) };
  };
  return { ...json, anyOf: ((json.anyOf ?? []) as JsonSchema[]).map(strip) };
}

/** A fault or probe step with params: its params as the named fault's or probe's (fault_params, probe_params). */
function withParams(json: JsonSchema): JsonSchema {
  const properties = json.properties as Record<string, JsonSchema> | undefined;
  if (!properties?.params) return json;
  const kind = (['fault', 'probe'] as const).find((k) => properties[k]?.$ref === ref(k).$ref);
  return kind ? { ...json, allOf: [ref(`${kind}_params`)] } : json;
}

/**
 * The parameters of each registered fault or probe, by name (draft-07 if/then): their keys with descriptions and
 * defaults, the required ones, no others (params objects are strict). Their values are left to validate, which reads
 * them as the command line does (a port may be "3306"). A name no entry has (a plugin's) gets no constraint here.
 */
function paramsByName(kind: 'fault' | 'probe', entries: readonly NamedEntry[]): JsonSchema {
  const objectOf = (schema: z.ZodTypeAny): z.AnyZodObject | undefined =>
    schema instanceof z.ZodObject ? schema : schema instanceof z.ZodEffects ? objectOf(schema.innerType()) : undefined;
  const branches = entries.flatMap((e) => {
    const object = e.params && objectOf(e.params);
    if (!object) return [];
    const shape = object.shape as Record<string, z.ZodTypeAny>;
    const keys = Object.fromEntries(
      Object.entries(shape).map(([key, s]) => {
        const dflt = s instanceof z.ZodDefault ? (s._def.defaultValue as () => unknown)() : undefined;
        return [key, { ...(s.description ? { description: s.description } : {}), ...(dflt !== undefined ? { default: dflt } : {}) }];
      }),
    );
    const required = Object.keys(shape).filter((k) => !shape[k]!.isOptional());
    const params = {
      type: 'object',
      properties: keys,
      ...(required.length ? { required } : {}),
      ...(object._def.unknownKeys === 'strict' ? { additionalProperties: false } : {}),
    };
    return [{ if: { type: 'object', properties: { [kind]: { const: e.name } }, required: [kind] }, then: { type: 'object', properties: { params } } }];
  });
  return {
    description: `Each registered ${kind}'s parameters: names, descriptions and defaults (faultline ${kind === 'fault' ? 'fault list' : 'probe --help'}).`,
    allOf: branches,
  };
}

/** The JSDoc comments of an object's keys, where the inputs have them and the key has no description of its own. */
function described(json: JsonSchema, inputs: SchemaInputs): JsonSchema {
  const properties = json.properties as Record<string, JsonSchema> | undefined;
  if (!properties || !inputs.descriptions) return json;
  const docs = inputs.descriptions[Object.keys(properties).sort().join(',')];
  if (!docs) return json;
  const withDocs = Object.fromEntries(
    Object.entries(properties).map(([k, v]) => [k, docs[k] !== undefined && v.description === undefined ? { description: docs[k], ...v } : v]),
  );
  return { ...json, properties: withDocs };
}

function definitions(env: EnvMode, inputs: SchemaInputs): Record<string, JsonSchema> {
  return {
    duration: {
      description: 'A duration: 250ms, 30s, 1.5m, 1h, or a number of seconds.',
      anyOf: [{ type: 'string', pattern: DURATION_PATTERN }, { type: 'number', minimum: 0 }, ...(env.strings ? [ref('env')] : [])],
    },
    env: {
      description: 'A value from the environment, substituted before the file is validated: ${VAR} or ${VAR:-default}.',
      type: 'string',
      pattern: ENV_PATTERN,
    },
    fault: nameChoice('fault', inputs.faults, env),
    probe: nameChoice('probe', inputs.probes, env),
    fault_params: paramsByName('fault', inputs.faults),
    probe_params: paramsByName('probe', inputs.probes),
  };
}

/** The definitions a schema refers to, and those they refer to, in a fixed order. */
function used(json: unknown, all: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string' && x.startsWith('#/definitions/')) {
        const name = x.slice('#/definitions/'.length);
        if (!names.has(name) && all[name]) {
          names.add(name);
          walk(all[name]);
        }
      } else walk(x);
    }
  };
  walk(json);
  return Object.fromEntries(Object.keys(all).flatMap((k) => (names.has(k) ? [[k, all[k]!]] : [])));
}

function document(kind: SchemaKind, body: JsonSchema, defs: Record<string, JsonSchema>): JsonSchema {
  const refs = used(body, defs);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://faultline.local/schemas/${schemaFileName(kind)}`,
    ...TITLES[kind],
    ...body,
    ...(Object.keys(refs).length ? { definitions: refs } : {}),
  };
}

/** The three schemas (pure: the same zod schemas and inputs give the same documents, key for key). */
export function jsonSchemas(inputs: SchemaInputs): Record<SchemaKind, JsonSchema> {
  const schemaOf = (kind: SchemaKind, schema: z.ZodTypeAny) => convert(kind, schema, ENV_MODES[kind], inputs);
  const expDefs = definitions(ENV_MODES.experiment, inputs);
  // An inline stack.description is substituted as the experiment is, then read as a description.
  const inlineStack = convert('stack', stackSpecSchema, ENV_MODES.experiment, inputs);
  return {
    experiment: document('experiment', schemaOf('experiment', experimentSchema), { ...expDefs, stack: { title: TITLES.stack.title, ...inlineStack } }),
    suite: document('suite', schemaOf('suite', suiteSchema), definitions(ENV_MODES.suite, inputs)),
    stack: document('stack', schemaOf('stack', stackSpecSchema), definitions(ENV_MODES.stack, inputs)),
  };
}
