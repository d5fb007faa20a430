// Finding fault targets by the stack's labels (works for stacks faultline did not start), with `all:`, `random:`,
// `count:N:` and `percent:N:` selectors, and refusing anything that does not carry the stack's label (UNSAFE_TARGET).

import { FaultlineError, invalidInput } from '../errors.js';
import { COMPOSE_PROJECT, LABEL, type ContainerState, type ContainerSummary } from '../stack/docker-client.js';
import type { FaultContext, TargetRef } from './types.js';
import { currentWriter, markWriter } from '../stack/writer.js';
import { isHelper } from '../stack/servers.js';
import { nodeOfId } from '../stack/engine.js';
import { STACK_NAMESPACE } from '../stack/swarm-tasks.js';

export type Pick = 'one' | 'all' | 'random' | 'count' | 'percent';

export interface TargetSelector {
  pick: Pick;
  /** How many (count) or which share (percent, 1–100) of the matches are picked at random. */
  n?: number;
  /** label key → value; keys: service, server, role, component, name, id. */
  match: Array<[key: MatchKey, value: string]>;
  source: string;
}

// node: a swarm node's hostname (a task on it, or the node itself for node faults, node-faults.ts).
const KEYS = ['service', 'server', 'role', 'component', 'name', 'id', 'node'] as const;
type MatchKey = (typeof KEYS)[number];

/**
 * Parses "[all:|random:|count:N:|percent:N:]term[,term…]", a term being key=value (keys above) or a bare word meaning
 * a compose service or container name. Pure.
 */
export function parseTarget(expr: string): TargetSelector {
  const source = expr.trim();
  let rest = source;
  let pick: Pick = 'one';
  let n: number | undefined;
  const prefix = /^(all|random)(?::|$)/.exec(rest);
  const sized = /^(count|percent)(?::([^:,=]*))?(?::|$)/.exec(rest);
  if (prefix) {
    pick = prefix[1] as Pick;
    rest = rest.slice(prefix[0].length);
  } else if (sized) {
    pick = sized[1] as Pick;
    n = sizeOf(pick, sized[2], expr);
    rest = rest.slice(sized[0].length);
  }
  const match: TargetSelector['match'] = [];
  for (const term of rest
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const eq = term.indexOf('=');
    if (eq < 0) {
      match.push(['name', term]);
      continue;
    }
    const key = term.slice(0, eq).trim();
    const value = term.slice(eq + 1).trim();
    if (!(KEYS as readonly string[]).includes(key)) throw invalidInput('target', `unknown key "${key}" in "${expr}" (use ${KEYS.join(', ')})`);
    if (!value) throw invalidInput('target', `empty value for ${key} in "${expr}"`);
    match.push([key as MatchKey, value]);
  }
  if (match.length === 0 && pick === 'one') throw invalidInput('target', `"${expr}" selects nothing (e.g. server=web1, component=nginx, all:role=web)`);
  return { pick, match, source, ...(n === undefined ? {} : { n }) };
}

/** N of count:N (1 or more) or percent:N (1 to 100), whole numbers. */
function sizeOf(pick: Pick, text: string | undefined, expr: string): number {
  const example = pick === 'count' ? 'count:2:role=web' : 'percent:50:role=web';
  const value = text?.trim() ?? '';
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (pick === 'count' && !(n >= 1 && Number.isSafeInteger(n)))
    throw invalidInput('target', `"${expr}": count takes how many to pick, a whole number of 1 or more (e.g. ${example})`);
  if (pick === 'percent' && !(n >= 1 && n <= 100)) throw invalidInput('target', `"${expr}": percent takes a whole number from 1 to 100 (e.g. ${example})`);
  return n;
}

/** How many of `found` matches a count:/percent: selector picks: percent rounds up, so it is never none. Pure. */
export function pickSize(selector: TargetSelector, found: number): number {
  return selector.pick === 'percent' ? Math.max(1, Math.ceil((found * (selector.n ?? 100)) / 100)) : (selector.n ?? found);
}

function matches(c: ContainerSummary, key: MatchKey, value: string): boolean {
  switch (key) {
    case 'service':
      return c.service === value;
    case 'server':
      return c.server === value;
    case 'role':
      return c.role === value;
    case 'component':
      return c.component === value;
    case 'id':
      return c.id.startsWith(value);
    case 'node':
      return nodeOfId(c.id) === value;
    case 'name':
      // A bare word: compose service, container name, or short id.
      return c.service === value || c.name === value || (value.length >= 6 && c.id.startsWith(value));
  }
}

export function toRef(c: ContainerSummary): TargetRef {
  const node = nodeOfId(c.id);
  return { id: c.id, name: c.name, service: c.service, server: c.server, component: c.component, ...(node ? { node } : {}) };
}

/** The stack's own service containers (fault helpers and every other container faultline started excluded). */
export async function stackContainers(ctx: FaultContext): Promise<ContainerSummary[]> {
  return (await ctx.stack.containers()).filter((c) => !isHelper(c));
}

/**
 * What a target expression chooses from: the stack's containers, and where the description declares a writer LB,
 * the node it sends writes to now carries the role db-primary (asked only when the expression names that role, so
 * nothing else depends on the LB answering).
 */
async function targetContainers(ctx: FaultContext, selector: TargetSelector): Promise<ContainerSummary[]> {
  const list = await stackContainers(ctx);
  if (!ctx.stack.spec.writer || !selector.match.some(([k, v]) => k === 'role' && v === 'db-primary')) return list;
  return markWriter(list, await currentWriter(ctx.stack.spec, list, (id, cmd) => ctx.docker.exec(id, cmd)));
}

/** Filters, then applies the selector. Pure apart from ctx.random. `noun` names what is picked in an error. */
export function select(containers: ContainerSummary[], selector: TargetSelector, random: () => number, noun = 'containers'): ContainerSummary[] {
  const found = containers.filter((c) => selector.match.every(([k, v]) => matches(c, k, v)));
  if (selector.pick === 'random' && found.length > 0) return [found[Math.min(found.length - 1, Math.floor(random() * found.length))]!];
  if ((selector.pick === 'count' || selector.pick === 'percent') && found.length > 0) {
    const size = pickSize(selector, found.length);
    if (size > found.length) {
      throw invalidInput(
        'target',
        `"${selector.source}" asks for ${size} ${noun} but matches only ${found.length} (${found
          .map((c) => c.service || c.name)
          .sort()
          .join(', ')})`,
      );
    }
    return sample(found, size, random);
  }
  if (selector.pick === 'one' && found.length > 1) {
    throw invalidInput(
      'target',
      `"${selector.source}" matches ${found.length} containers (${found.map((c) => c.service || c.name).join(', ')}); narrow it, or prefix all:, random: or count:N:`,
    );
  }
  return found;
}

/** `size` of `list` at random, in the list's order (a partial Fisher–Yates shuffle of the indexes). Pure apart from random. */
function sample<T>(list: T[], size: number, random: () => number): T[] {
  const indexes = list.map((_, i) => i);
  for (let i = 0; i < size; i += 1) {
    const j = i + Math.min(indexes.length - i - 1, Math.floor(random() * (indexes.length - i)));
    [indexes[i], indexes[j]] = [indexes[j]!, indexes[i]!];
  }
  return indexes
    .slice(0, size)
    .sort((a, b) => a - b)
    .map((i) => list[i]!);
}

/**
 * Resolves a target expression to stack containers. A name that exists in Docker but lacks this stack's
 * label is refused as UNSAFE_TARGET rather than reported unknown, so the user learns why.
 */
export async function resolveContainers(ctx: FaultContext, expr: string, filter: (c: ContainerSummary) => boolean = () => true): Promise<ContainerSummary[]> {
  const selector = parseTarget(expr);
  const all = (await targetContainers(ctx, selector)).filter(filter);
  const found = select(all, selector, ctx.random);
  if (found.length > 0) return found;
  for (const [key, value] of selector.match) {
    if (key !== 'name' && key !== 'id') continue;
    const foreign = await ctx.docker.inspect(value).catch(() => undefined);
    if (foreign) {
      const label = foreign.labels[LABEL.stack] ?? foreign.labels[COMPOSE_PROJECT];
      throw new FaultlineError(
        'UNSAFE_TARGET',
        `container ${foreign.name} does not belong to stack ${ctx.stack.project} (its stack is ${label ? `"${label}"` : 'not labelled'}); faultline only touches its stack's containers`,
      );
    }
  }
  const services = [...new Set(all.map((c) => c.service || c.name))].sort();
  throw new FaultlineError('UNKNOWN_TARGET', `target "${expr}" matches no container of stack ${ctx.stack.project}`, {
    hint: services.length ? `services: ${services.join(', ')}` : `is the stack up? (faultline stack up --project ${ctx.stack.project})`,
  });
}

/** Resolves to servers: the host containers (network identity, firewall) of every matched container's server. */
export async function resolveServers(ctx: FaultContext, expr: string): Promise<ContainerSummary[]> {
  const selector = parseTarget(expr);
  const all = await targetContainers(ctx, selector);
  const hosts = all.filter((c) => c.host);
  // A selector that matches components of one server (e.g. service=db-primary-mariadb) means that server.
  const matched = all.filter((c) => selector.match.every(([k, v]) => matchesLoose(c, k, v)));
  if (matched.length === 0) await resolveContainers(ctx, expr); // throws UNKNOWN_TARGET / UNSAFE_TARGET
  const servers = [...new Set(matched.map((c) => c.server).filter((s): s is string => Boolean(s)))];
  const candidates = hosts.filter((h) => h.server !== undefined && servers.includes(h.server));
  if (candidates.length === 0) throw new FaultlineError('UNKNOWN_TARGET', `target "${expr}" is on no server of stack ${ctx.stack.project}`);
  return select(candidates, { ...selector, match: [] }, ctx.random, 'servers');
}

function matchesLoose(c: ContainerSummary, key: MatchKey, value: string): boolean {
  // A bare word may also be a server name ("web1", "db-primary").
  return matches(c, key, value) || (key === 'name' && c.server === value);
}

/** Defence in depth right before acting: the container must still carry this stack's label. */
export async function assertStackContainer(ctx: FaultContext, id: string): Promise<void> {
  const info = await ctx.docker.inspect(id).catch(() => undefined);
  if (!info) return; // gone: nothing to touch
  assertStackLabels(ctx, info);
}

/** The same check on an inspect result the caller already has (a revert inspects to see if it is running). */
export function assertStackLabels(ctx: FaultContext, info: { name: ContainerState['name']; labels: ContainerState['labels'] }): void {
  const swarm = ctx.stack.spec.kind === 'swarm';
  if (!belongsToStack(info.labels, ctx.stack.project, swarm)) {
    throw new FaultlineError(
      'UNSAFE_TARGET',
      `container ${info.name} carries neither ${LABEL.stack}=${ctx.stack.project} nor ${swarm ? STACK_NAMESPACE : COMPOSE_PROJECT}=${ctx.stack.project}; refusing to touch it`,
    );
  }
}

/**
 * A container is the stack's when it carries its faultline.stack label or its compose project's label; a swarm stack's
 * task, its stack namespace's label instead (pure).
 */
export function belongsToStack(labels: Record<string, string>, project: string, swarm = false): boolean {
  return labels[LABEL.stack] === project || labels[swarm ? STACK_NAMESPACE : COMPOSE_PROJECT] === project;
}
