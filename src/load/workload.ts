// What each request is: GET <url>, GET /whoami, GET /items/:id or POST /items with a unique key,
// chosen by the mix. Reads use ids that this run's writes got back, or the configured id range until there are some.

import { MixSelector } from './mix.js';
import type { WriteLedger } from './ledger.js';
import type { LoadOptions, RequestKind } from './types.js';

export interface PlannedRequest {
  kind: RequestKind;
  method: 'GET' | 'POST';
  /** Path and query, starting with '/'. */
  path: string;
  /** JSON body for writes. */
  body: string | null;
  /** Write key (writes only). */
  key: string | null;
}

/** How many acknowledged ids reads pick from: recent ones, in a ring. */
const ID_POOL_SIZE = 4096;

export class Workload {
  private readonly selector: MixSelector | null;
  private readonly basePath: string;
  private readonly urlPath: string;
  private readonly ids: number[] = [];
  private idCursor = 0;
  private readonly idRange: { min: number; max: number };
  private rng: number;
  /** True when every request is the same (no reads by id, no writes): drivers can prebuild it once. */
  readonly isStatic: boolean;
  readonly staticKind: RequestKind | null;

  constructor(
    options: Pick<LoadOptions, 'url' | 'mix' | 'idRange' | 'runId'>,
    private readonly ledger: WriteLedger,
  ) {
    const active = options.mix?.filter((e) => e.weight > 0) ?? null;
    this.selector = active && active.length > 0 ? new MixSelector(active) : null;
    // Kind paths are relative to the URL's path, so a stack mounted under /api works.
    this.basePath = options.url.pathname.replace(/\/+$/, '');
    this.urlPath = `${options.url.pathname}${options.url.search}`;
    this.idRange = options.idRange;
    this.rng = seedFrom(options.runId);
    const only = active && active.length === 1 ? (active[0]?.kind ?? null) : null;
    this.staticKind = !this.selector ? 'url' : only === 'whoami' ? 'whoami' : null;
    this.isStatic = this.staticKind !== null;
  }

  next(): PlannedRequest {
    const kind: RequestKind = this.selector ? this.selector.next() : 'url';
    switch (kind) {
      case 'url':
        return { kind, method: 'GET', path: this.urlPath, body: null, key: null };
      case 'whoami':
        return { kind, method: 'GET', path: `${this.basePath}/whoami`, body: null, key: null };
      case 'read':
        return { kind, method: 'GET', path: `${this.basePath}/items/${this.pickId()}`, body: null, key: null };
      case 'write': {
        const key = this.ledger.nextKey();
        return { kind, method: 'POST', path: `${this.basePath}/items`, body: JSON.stringify({ key, value: `faultline ${key}` }), key };
      }
    }
  }

  /** An acknowledged write's id becomes available to reads. */
  noteId(id: number): void {
    if (this.ids.length < ID_POOL_SIZE) this.ids.push(id);
    else {
      this.ids[this.idCursor] = id;
      this.idCursor = (this.idCursor + 1) % ID_POOL_SIZE;
    }
  }

  private pickId(): number {
    const r = this.random();
    if (this.ids.length > 0) return this.ids[Math.floor(r * this.ids.length)] as number;
    const span = this.idRange.max - this.idRange.min + 1;
    return this.idRange.min + Math.floor(r * span);
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
