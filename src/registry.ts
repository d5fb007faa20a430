// One kind of catalogue for every extension point (faults, probes, report formats): things with a name,
// registered once each, looked up by name with one unknown-name error and one "did you mean" for all of them.

import { FaultlineError } from './errors.js';
import { suggestion } from './util/suggest.js';

/**
 * The message for a name no registry of `kind` knows (pure): the nearest known name when one is near enough,
 * else where the names are listed (`seeAlso`, a command) or the names themselves.
 */
export function unknownNameMessage(kind: string, name: string, known: readonly string[], seeAlso?: string): string {
  const near = suggestion(name, known);
  if (near) return `unknown ${kind} "${name}"; did you mean ${near}?`;
  return `unknown ${kind} "${name}" (${seeAlso ? `see \`${seeAlso}\`` : `known: ${[...known].sort().join(', ')}`})`;
}

export interface RegistryOptions {
  /** The command that lists the names, named in the error when no known name is near; without it the error lists them. */
  seeAlso?: string;
}

/** Named things of one kind, in registration order. Registering a name twice is a programming error. */
export class Registry<T extends { readonly name: string }> {
  private readonly byName = new Map<string, T>();

  constructor(
    /** What one entry is called in messages ("fault", "probe", "report format"). */
    readonly kind: string,
    entries: Iterable<T> = [],
    private readonly options: RegistryOptions = {},
  ) {
    for (const e of entries) this.register(e);
  }

  register(entry: T): this {
    if (this.byName.has(entry.name)) throw new FaultlineError('INTERNAL', `${this.kind} ${entry.name} is registered twice`);
    this.byName.set(entry.name, entry);
    return this;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The entry called `name`; UNKNOWN_NAME (exit 2) with the nearest known name otherwise. */
  get(name: string): T {
    const entry = this.byName.get(name);
    if (!entry) throw new FaultlineError('UNKNOWN_NAME', unknownNameMessage(this.kind, name, this.names(), this.options.seeAlso));
    return entry;
  }

  list(): T[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
