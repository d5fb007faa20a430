// The record of a certificate fault (what revert needs, from a fresh process): the files it saved and put, with
// secret-bearing ones by hash only, and where revert finds the content of those.

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { sha256Hex } from '../stack/tls.js';
import { SAVE_DIR, type EdgeFile } from './edge-files.js';
import type { FaultContext } from './types.js';

/**
 * A file as it is recorded. Files that hold a private key (HAProxy's certificate file, a new key for nginx) are
 * recorded by their SHA-256 only, never by content: the record is printed by `--json` and may end up in CI logs.
 * The content of an original one is kept in the edge itself (SAVE_DIR, written with the swap) and, where the
 * description names one (stack.edge.saved_copy), in a copy on the host; revert takes whichever has the recorded hash.
 */
const fileSchema = z.object({
  key: z.enum(['certificate', 'key', 'config', 'openssl']),
  path: z.string(),
  mode: z.number(),
  base64: z.string().optional(),
  sha256: z.string().optional(),
});
export const dataSchema = z.object({
  mode: z.enum(['certificate', 'legacy-tls', 'no-hsts', 'no-redirect']),
  /** The edge container (named lbId since the first version of the record). */
  lbId: z.string(),
  /** Records of older versions are HAProxy's. */
  kind: z.enum(['haproxy', 'nginx']).default('haproxy'),
  /** What was there before, to be put back byte for byte. */
  previous: z.array(fileSchema),
  /** What the fault puts there; secret-bearing files only by hash (their content is in memory until apply). */
  next: z.array(fileSchema),
  /** Files the fault adds to the edge (nginx: the certificate it is pointed at), removed by revert. */
  created: z.array(z.string()).default([]),
  previousFingerprint: z.string(),
  injectedFingerprint: z.string().optional(),
});
export type CertData = z.infer<typeof dataSchema>;

/** Where a HAProxy swap keeps the edge's own certificate file inside the edge, for the revert. */
export const savedCopy = (faultId: string) => `${SAVE_DIR}/${faultId}-site.pem`;

export const holdsKey = (content: Buffer) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(content.toString('latin1'));

/** A file for the record: content when it is no secret, its hash otherwise. Pure. */
export function recordedFile(f: EdgeFile): CertData['previous'][number] {
  return holdsKey(f.content)
    ? { key: f.key, path: f.path, mode: f.mode, sha256: sha256Hex(f.content) }
    : { key: f.key, path: f.path, mode: f.mode, base64: f.content.toString('base64') };
}

/**
 * The content of each recorded file: inline, or (secret-bearing files) the first copy whose SHA-256 is the recorded
 * one: the copy the swap left in the edge (read with the archive API, so in any container state), the edge's current
 * file (an apply that failed before the swap left the original there), then the description's host copy.
 */
export async function contentsOf(ctx: FaultContext, record: { id: string; data: CertData }, files: CertData['previous']): Promise<EdgeFile[]> {
  const out: EdgeFile[] = [];
  const hostCopy = ctx.stack.spec.edge?.saved_copy;
  for (const f of files) {
    if (f.base64 !== undefined) {
      out.push({ key: f.key, path: f.path, mode: f.mode, content: Buffer.from(f.base64, 'base64') });
      continue;
    }
    const candidates = [
      () => ctx.docker.readFile(record.data.lbId, savedCopy(record.id)),
      () => ctx.docker.readFile(record.data.lbId, f.path),
      ...(hostCopy ? [() => readFile(hostCopy)] : []),
    ];
    let found: Buffer | undefined;
    for (const read of candidates) {
      const c = await read().catch(() => undefined);
      if (c && sha256Hex(c) === f.sha256) {
        found = c;
        break;
      }
    }
    if (!found)
      throw new FaultlineError(
        'REVERT_FAILED',
        `${record.id}: no copy of ${f.path} with the recorded SHA-256 (in the edge at ${savedCopy(record.id)}${hostCopy ? `, or at ${hostCopy} (stack.edge.saved_copy)` : ''})`,
      );
    out.push({ key: f.key, path: f.path, mode: f.mode, content: found });
  }
  return out;
}

/** The SHA-256 of a recorded file's content (inline or recorded by hash). Pure. */
export const recordedSha = (f: CertData['previous'][number]): string => f.sha256 ?? sha256Hex(Buffer.from(f.base64 ?? '', 'base64'));

/**
 * The saved files someone replaced since the fault put its own (e.g. `stack up` renewed the certificate and restarted
 * the edge): what is there now is neither what the fault put nor what it saved. Putting the saved file back would undo
 * that renewal, so revert leaves them. A file that cannot be read (404) counts as not replaced.
 */
export async function replacedSince(ctx: FaultContext, data: CertData): Promise<Set<string>> {
  const replaced = new Set<string>();
  for (const f of data.previous) {
    const put = data.next.find((n) => n.path === f.path);
    const now = put ? await ctx.docker.readFile(data.lbId, f.path) : undefined;
    if (put && now !== undefined && ![recordedSha(put), recordedSha(f)].includes(sha256Hex(now))) replaced.add(f.path);
  }
  return replaced;
}
