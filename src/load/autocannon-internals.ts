// The closed driver patches autocannon's per-connection Client; those parts are private to autocannon, so the
// version is pinned exactly in package.json and checked here before a run, failing with one line that names what is
// missing instead of a TypeError in the middle of a run.

import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { PlannedRequest } from './workload.js';
import { FaultlineError } from '../errors.js';

/** The autocannon version whose internals the closed driver was written against (package.json pins it). */
export const AUTOCANNON_VERSION = '8.0.0';

const require = createRequire(import.meta.url);

/** Methods on Client.prototype the driver replaces or calls. */
const PROTOTYPE_METHODS = ['_connect', '_doRequest', '_destroyConnection'] as const;

/** Paths on a constructed Client (at setupClient time) the driver reads or calls, with the type each must have. */
const CLIENT_SHAPE: Array<[path: string, type: 'function' | 'object' | 'number' | 'boolean']> = [
  ['parser', 'object'],
  ['parser.initialize', 'function'],
  ['parser.execute', 'function'],
  ['pipelinedRequests', 'object'],
  ['pipelinedRequests.insertRequest', 'function'],
  ['pipelinedRequests.clear', 'function'],
  ['pipelinedRequests.addByteCount', 'function'],
  ['requestIterator', 'object'],
  ['requestIterator.nextRequest', 'function'],
  ['requestIterator.recordBody', 'function'],
  ['requestIterator.currentRequest', 'object'],
  ['requestIterator.context', 'object'],
  ['requestIterator.requests', 'object'],
  ['timeout', 'number'],
  ['reqsMade', 'number'],
  ['destroyed', 'boolean'],
  ['on', 'function'],
];

function lookup(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || (typeof cur !== 'object' && typeof cur !== 'function')) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function mismatch(version: string | null, missing: string[]): FaultlineError {
  const v = version === null ? 'the installed autocannon' : `autocannon ${version}`;
  return new FaultlineError(
    'INTERNAL',
    `closed driver: ${v} lacks ${missing.join(', ')}; faultline patches autocannon ${AUTOCANNON_VERSION}'s internals (run npm ci)`,
  );
}

function installedVersion(): string | null {
  try {
    return (require('autocannon/package.json') as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** What is missing on a Client prototype; empty when it has everything the driver replaces. */
export function missingPrototypeMethods(proto: unknown): string[] {
  return PROTOTYPE_METHODS.filter((m) => typeof lookup(proto, m) !== 'function').map((m) => `Client.prototype.${m}`);
}

/** What is missing or of the wrong type on a constructed Client. */
export function missingClientParts(client: unknown): string[] {
  return CLIENT_SHAPE.filter(([path, type]) => typeof lookup(client, path) !== type).map(([path]) => `client.${path}`);
}

/** Throws FaultlineError('INTERNAL') when autocannon's Client class lacks a method the driver replaces. */
export function assertAutocannonPrototype(proto: unknown = loadClientPrototype()): void {
  const missing = proto === undefined ? ['lib/httpClient.js'] : missingPrototypeMethods(proto);
  if (missing.length) throw mismatch(installedVersion(), missing);
}

/** Throws FaultlineError('INTERNAL') when a constructed Client lacks a part the driver uses. */
export function assertAutocannonClient(client: unknown): void {
  const missing = missingClientParts(client);
  if (missing.length) throw mismatch(installedVersion(), missing);
}

function loadClientPrototype(): unknown {
  try {
    const Client = require('autocannon/lib/httpClient.js') as { prototype?: unknown };
    return Client.prototype;
  } catch {
    return undefined;
  }
}

/** The parts of autocannon@8's lib/httpClient.js Client that we use or replace. */
export interface AcRequest {
  requestBuffer: Buffer;
  onResponse?: (status: number, body: string) => void;
}
export interface AcClient extends EventEmitter {
  conn: net.Socket | null;
  parser: { initialize(type: string): void; execute(chunk: Buffer): unknown };
  pipelinedRequests: { insertRequest(req: unknown): void; clear(): void; addByteCount(n: number): void };
  requestIterator: { nextRequest(): unknown; currentRequest: AcRequest; context: { plan?: PlannedRequest }; requests: AcRequest[] };
  timeoutTicker: { reschedule(ms: number): void };
  timeout: number;
  reqsMade: number;
  destroyed: boolean;
  _connect(): void;
  _doRequest(): void;
  _destroyConnection(): void;
}
