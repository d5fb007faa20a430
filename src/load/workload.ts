// What each request is: GET <url>, or one of the workload's named requests (workload-spec.ts) chosen by the mix, its
// path and body templates filled in. Templates are compiled once into parts, so filling one in is a few concatenations.
// Reads use ids that this run's writes got back, or the seeded ids / configured id range until there are some.

import { FaultlineError, invalidInput } from '../errors.js';
import { request, type SimpleRequest } from '../util/http.js';
import { isExpectedStatus, parseId } from './ledger.js';
import { MixSelector } from './mix.js';
import { TEMPLATE_VARIABLES, usesId } from './workload-spec.js';
import type { RequestSpec } from './workload-spec.js';
import type { WriteId, WriteLedger, WriteRule } from './ledger.js';
import type { LoadOptions, RequestKind } from './types.js';

/** A variable slot of a compiled template; ${prefix} has none, being the same for the whole run. */
const KEY = 0;
const SEQ = 1;
const ID = 2;
type Slot = typeof KEY | typeof SEQ | typeof ID;

/** A compiled template: its text when it has no variable, else literal parts and slots in order. */
export type Template = string | ReadonlyArray<string | Slot>;

/**
 * Splits a template into parts once. ${prefix} is filled in here (`prefix`: the ledger's key prefix), the per-request
 * variables become slots. Unknown variables are refused (the schema already does, this guards library callers).
 */
export function compileTemplate(text: string, prefix: string): Template {
  const parts: Array<string | Slot> = [];
  let literal = '';
  let last = 0;
  for (const m of text.matchAll(/\$\{([^}]*)\}/g)) {
    literal += text.slice(last, m.index);
    last = (m.index as number) + m[0].length;
    const name = m[1] as string;
    if (name === 'prefix') {
      literal += prefix;
      continue;
    }
    const slot = name === 'key' ? KEY : name === 'seq' ? SEQ : name === 'id' ? ID : null;
    if (slot === null)
      throw invalidInput('workload', `unknown variable \${${name}} in ${JSON.stringify(text)} (use ${TEMPLATE_VARIABLES.map((v) => `\${${v}}`).join(', ')})`);
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(slot);
  }
  literal += text.slice(last);
  if (parts.length === 0) return literal;
  if (literal !== '') parts.push(literal);
  return parts;
}

/** Fills a compiled template in: this is on the paced driver's hot path, so no regex and no allocation but the result. */
export function expandTemplate(t: Template, key: string, seq: string, id: string): string {
  if (typeof t === 'string') return t;
  let s = '';
  for (let i = 0; i < t.length; i++) {
    const p = t[i] as string | Slot;
    s += typeof p === 'string' ? p : p === KEY ? key : p === SEQ ? seq : id;
  }
  return s;
}

function uses(t: Template | null, slot: Slot): boolean {
  return t !== null && typeof t !== 'string' && t.includes(slot);
}

/** A named request ready to send: templates compiled, headers merged once (drivers share the object, never change it). */
export interface CompiledRequest extends WriteRule {
  name: string;
  method: RequestSpec['method'];
  /** Under the URL's path. */
  path: Template;
  body: Template | null;
  headers: Readonly<Record<string, string>>;
  write: boolean;
  needsId: boolean;
  needsSeq: boolean;
}

export interface CompileContext {
  /** The URL's path without its trailing slash: request paths are under it, so a stack mounted under /api works. */
  basePath: string;
  /** What ${prefix} stands for: the ledger's key prefix. */
  prefix: string;
  hostHeader: string | null;
}

export function compileRequest(name: string, spec: RequestSpec, c: CompileContext): CompiledRequest {
  const path = compileTemplate(`${c.basePath}${spec.path}`, c.prefix);
  const body = spec.body === undefined ? null : compileTemplate(spec.body, c.prefix);
  const headers: Record<string, string> = { ...(c.hostHeader ? { host: c.hostHeader } : {}), ...spec.headers };
  // A body without a declared type is JSON, as the reference app's writes are.
  if (body !== null && !Object.keys(spec.headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const expect = spec.expect === undefined ? null : Array.isArray(spec.expect) ? [...spec.expect] : [spec.expect];
  return {
    name,
    method: spec.method,
    path,
    body,
    headers,
    write: spec.write,
    expect,
    idPath: spec.write ? (spec.id ?? 'id').split('.') : null,
    needsId: uses(path, ID) || uses(body, ID),
    needsSeq: uses(path, SEQ) || uses(body, SEQ),
  };
}

export interface PlannedRequest {
  /** The request's name in the workload, or `url` for GET <url>. */
  kind: RequestKind;
  method: RequestSpec['method'];
  /** Path and query, starting with '/'. */
  path: string;
  body: string | null;
  /** Shared with every request of its kind: never change it. */
  headers: Readonly<Record<string, string>>;
  /** Write key (writes only). */
  key: string | null;
  /** What it was made from (expected statuses, where the id is); null for GET <url>. */
  request: CompiledRequest | null;
}

/** How many acknowledged ids reads pick from: recent ones, in a ring. */
const ID_POOL_SIZE = 4096;

export class Workload {
  private readonly selector: MixSelector | null;
  /** In the selector's order. */
  private readonly requests: CompiledRequest[];
  private readonly urlPlan: PlannedRequest;
  /** As text: they are only ever put into templates. */
  private readonly ids: string[] = [];
  private idCursor = 0;
  private seq = 0;
  private readonly idRange: { min: number; max: number };
  private rng: number;
  /** True when every request is the same (no key, seq or id, not a write): drivers can prebuild it once. */
  readonly isStatic: boolean;

  constructor(
    options: Pick<LoadOptions, 'url' | 'mix' | 'idRange' | 'runId' | 'workload' | 'hostHeader' | 'seedIds'>,
    private readonly ledger: WriteLedger,
  ) {
    const active = options.mix?.filter((e) => e.weight > 0) ?? [];
    this.selector = active.length > 0 ? new MixSelector(active) : null;
    const c: CompileContext = { basePath: options.url.pathname.replace(/\/+$/, ''), prefix: ledger.keyPrefix, hostHeader: options.hostHeader };
    this.requests = (this.selector?.names ?? []).map((name) => {
      const spec = options.workload?.[name];
      // validateLoadOptions checked the mix against the workload; a library caller building LoadOptions itself may not have.
      if (!spec) throw invalidInput('mix', `unknown request ${JSON.stringify(name)} (known: ${Object.keys(options.workload ?? {}).join(', ') || 'none'})`);
      return compileRequest(name, spec, c);
    });
    this.urlPlan = {
      kind: 'url',
      method: 'GET',
      path: `${options.url.pathname}${options.url.search}`,
      body: null,
      headers: options.hostHeader ? { host: options.hostHeader } : {},
      key: null,
      request: null,
    };
    this.idRange = options.idRange;
    this.rng = seedFrom(options.runId);
    for (const id of options.seedIds) this.noteId(id);
    const only = this.requests.length === 1 ? (this.requests[0] as CompiledRequest) : null;
    this.isStatic = !this.selector || (only !== null && !only.write && !only.needsId && !only.needsSeq);
  }

  next(): PlannedRequest {
    if (!this.selector) return this.urlPlan;
    const r = this.requests[this.selector.nextIndex()] as CompiledRequest;
    this.seq += 1;
    const key = r.write ? this.ledger.nextKey() : null;
    const id = r.needsId ? this.pickId() : '';
    const seq = r.needsSeq ? String(this.seq) : '';
    return {
      kind: r.name,
      method: r.method,
      path: expandTemplate(r.path, key ?? '', seq, id),
      body: r.body === null ? null : expandTemplate(r.body, key ?? '', seq, id),
      headers: r.headers,
      key,
      request: r,
    };
  }

  /** An acknowledged write's id becomes available to reads. */
  noteId(id: WriteId): void {
    const text = String(id);
    if (this.ids.length < ID_POOL_SIZE) this.ids.push(text);
    else {
      this.ids[this.idCursor] = text;
      this.idCursor = (this.idCursor + 1) % ID_POOL_SIZE;
    }
  }

  private pickId(): string {
    const r = this.random();
    if (this.ids.length > 0) return this.ids[Math.floor(r * this.ids.length)] as string;
    const span = this.idRange.max - this.idRange.min + 1;
    return String(this.idRange.min + Math.floor(r * span));
  }

  /** mulberry32: a seeded PRNG so a run's reads are reproducible from its run id. */
  private random(): number {
    this.rng = (this.rng + 0x6d2b79f5) | 0;
    let t = this.rng;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

function seedFrom(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h | 0;
}

/** The write that seeds reads: one of the mix that answers with an id and needs none, else any such write of the workload. */
export function seedingWrite(requests: Record<string, RequestSpec>, mixNames: readonly string[]): [string, RequestSpec] | null {
  const fits = ([, r]: [string, RequestSpec]) => r.write && !usesId(r);
  const all = Object.entries(requests);
  return all.filter(([n]) => mixNames.includes(n)).find(fits) ?? all.find(fits) ?? null;
}

/**
 * Does `count` of a workload's writes before a run, so that reads by ${id} find rows from the first request on; answers
 * their ids. They are not the run's: their keys (seed-…) do not carry its prefix, so the data-loss check ignores them.
 */
export async function seedWrites(
  baseUrl: string,
  [name, spec]: [string, RequestSpec],
  count: number,
  tls: SimpleRequest,
  signal: AbortSignal,
): Promise<WriteId[]> {
  const stamp = Date.now().toString(36);
  const base = new URL(baseUrl);
  const r = compileRequest(name, spec, { basePath: base.pathname.replace(/\/+$/, ''), prefix: `seed-${stamp}-`, hostHeader: null });
  const ids: WriteId[] = [];
  for (let i = 1; i <= count; i++) {
    const key = `seed-${stamp}-${i}`;
    const body = r.body === null ? undefined : expandTemplate(r.body, key, String(i), '');
    const res = await request(`${base.origin}${expandTemplate(r.path, key, String(i), '')}`, {
      ...tls,
      method: r.method,
      headers: { ...r.headers },
      ...(body !== undefined ? { body } : {}),
      signal,
      timeoutMs: 10_000,
    });
    const id = isExpectedStatus(res.status, r.expect) && r.idPath ? parseId(res.body, r.idPath) : null;
    if (id === null)
      throw new FaultlineError(
        'STACK_FAILED',
        `seeding rows for reads: ${spec.method} ${spec.path} (${name}) answered ${res.status} without an id at ${spec.id ?? 'id'}`,
      );
    ids.push(id);
  }
  return ids;
}
