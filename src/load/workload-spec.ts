// Workloads as data: named requests (method, path and body templates, the status that counts as success, where a
// write's id is in the JSON answer) mixed by ratio. The reference app's reads and writes are one preset of it.

import { z } from 'zod';
import { invalidInput } from '../errors.js';
import { zodProblems } from '../util/zod.js';

/** Variables a template may use: ${key} (this write's ledger key), ${seq} (per-run counter), ${id} (an acknowledged write's id), ${prefix} (the run's key prefix). */
export const TEMPLATE_VARIABLES = ['key', 'seq', 'id', 'prefix'] as const;

const template = z
  .string()
  .min(1)
  .superRefine((t, ctx) => {
    for (const m of t.matchAll(/\$\{([^}]*)\}/g)) {
      if (!(TEMPLATE_VARIABLES as readonly string[]).includes(m[1]!)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `unknown variable \${${m[1]}} (use ${TEMPLATE_VARIABLES.map((v) => `\${${v}}`).join(', ')})` });
      }
    }
  });

const RESERVED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade']);

const status = z.number().int().min(100).max(599);

export const requestSpecSchema = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
    /** Path and query under the endpoint's URL, e.g. /orders/${id}. */
    path: template.refine((p) => p.startsWith('/'), 'must start with /'),
    body: template.optional(),
    /** Sent as given (no templates); host, content-length and the connection headers are the client's own. */
    headers: z
      .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name'), z.string().regex(/^[\x20-\x7e\t]*$/, 'visible ASCII'))
      .default({})
      .superRefine((h, ctx) => {
        for (const name of Object.keys(h))
          if (RESERVED_HEADERS.has(name.toLowerCase()))
            ctx.addIssue({
              code: z.ZodIssueCode.custom,
              path: [name],
              message: `${name} is set by the client${name.toLowerCase() === 'host' ? ' (use --host-header)' : ''}`,
            });
      }),
    /** The status (or statuses) that count as success; default any 2xx. */
    expect: z.union([status, z.array(status).min(1)]).optional(),
    /** A write: recorded in the write ledger with its ${key} and checked by the data-loss read-back. */
    write: z.boolean().default(false),
    /** Dot path of the id in a write's JSON answer (e.g. "id" or "data.order_id"); reads use ${id} from it. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'a dot path such as id or data.order_id')
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const sent = `${r.path} ${r.body ?? ''}`;
    if (r.write && !sent.includes('${key}'))
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['path'],
        message: 'a write must send its ${key} (in the path or the body), so that it can be read back',
      });
    // A key is a ledger entry: a read that made one up would put a write in the ledger that never happened.
    if (!r.write && sent.includes('${key}'))
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['path'], message: "${key} is a write's ledger key: use it only with write: true" });
    if (!r.write && r.id !== undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['id'], message: 'only a write (write: true) answers with an id for reads to use' });
  });

export type RequestSpec = z.output<typeof requestSpecSchema>;

/** A request's name, as a mix names it. */
export const REQUEST_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export const workloadSpecSchema = z
  .object({
    /** Start from a preset's requests (its names can be overridden and extended). */
    preset: z.enum(['reference']).optional(),
    requests: z.record(z.string().regex(REQUEST_NAME, 'request names are lowercase letters, digits, - or _ (at most 32)'), requestSpecSchema).default({}),
    /** The default mix, e.g. "read=8,write=2" (names from requests). */
    mix: z.string().optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (!w.preset && Object.keys(w.requests).length === 0)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['requests'], message: 'name at least one request (or use preset: reference)' });
  });

export type WorkloadSpec = z.output<typeof workloadSpecSchema>;

/** The reference app's requests (compose/images/app/server.js): GET /whoami, GET /items/:id, POST /items with a unique key. */
export const REFERENCE_REQUESTS: Record<string, RequestSpec> = {
  whoami: { method: 'GET', path: '/whoami', headers: {}, write: false },
  read: { method: 'GET', path: '/items/${id}', headers: {}, write: false },
  write: {
    method: 'POST',
    path: '/items',
    body: '{"key":"${key}","value":"faultline ${key}"}',
    headers: { 'content-type': 'application/json' },
    write: true,
    id: 'id',
  },
};

/** The requests a workload names, the preset's first (pure). */
export function workloadRequests(w: WorkloadSpec | undefined): Record<string, RequestSpec> {
  if (!w) return { ...REFERENCE_REQUESTS };
  return { ...(w.preset === 'reference' ? REFERENCE_REQUESTS : {}), ...w.requests };
}

/** What a caller may hand the engine: a workload as in a stack description, or just its named requests. */
export type WorkloadInput = z.input<typeof workloadSpecSchema> | Record<string, z.input<typeof requestSpecSchema>>;

/**
 * A bare map of requests rather than a workload: it has none of a workload's fields as a workload has them (a preset
 * or mix is a string, `requests` a map of requests; a request named "requests" has a path of its own).
 */
function isBareRequests(w: object): boolean {
  const o = w as Record<string, unknown>;
  const req = o.requests;
  const requestsMap = typeof req === 'object' && req !== null && typeof (req as { path?: unknown }).path !== 'string';
  return !(typeof o.preset === 'string' || typeof o.mix === 'string' || requestsMap);
}

/**
 * Validates a workload at the edge (schema as in a stack description). Throws INVALID_INPUT naming `source` (a field
 * such as "workload", or a file) and the field path, one line: "workload: requests.place.path: must start with /".
 */
export function parseWorkload(value: unknown, source = 'workload'): WorkloadSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidInput(source, 'must be a map (requests, mix, preset)');
  const parsed = workloadSpecSchema.safeParse(isBareRequests(value) ? { requests: value } : value);
  if (parsed.success) return parsed.data;
  const problems = zodProblems(parsed.error).map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  throw invalidInput(source, problems.join('; '));
}

/** True when a request sends an id an earlier write returned (so reads need ids before the first write answers). */
export function usesId(r: RequestSpec): boolean {
  return `${r.path} ${r.body ?? ''}`.includes('${id}');
}
