// The fault records' lock (faults.json beside faults.lock): a lock abandoned by a killed process never blocks the next
// writer, `faultline revert` included.

import test from 'ava';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultStore } from '../../src/faults/state-store.js';
import { faultRecord } from '../helpers/fake-docker.js';

test('issue 18 finding 6: an empty lock file left by a crash between create and write is taken over, not waited on until the timeout', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-lock-'));
  const lock = join(dir, 'faults.lock');
  await writeFile(lock, '');
  const old = new Date(Date.now() - 60_000);
  await utimes(lock, old, old);
  const store = new FaultStore(dir);
  const started = Date.now();
  await store.add(faultRecord({ hostname: 'h' }));
  // The defect waited out the whole 10 s lock timeout and then failed; the takeover needs no wait at all.
  t.true(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  t.is((await store.list()).length, 1);
});

test('issue 18 finding 6: a lock file that is empty only because its holder is writing it right now is not taken over', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-lock-'));
  const lock = join(dir, 'faults.lock');
  await writeFile(lock, '');
  const store = new FaultStore(dir);
  // A fresh empty lock is somebody's: the store waits for it (here: until we remove it) instead of breaking it.
  const done = store.add(faultRecord({ id: 'container-kill-2', slots: ['container:y'], hostname: 'h' }));
  // Kept fresh (as a live writer's would be, for the microseconds it is empty), so a busy machine cannot age it.
  const fresh = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), 50);
  await new Promise((r) => setTimeout(r, 600));
  clearInterval(fresh);
  t.is((await store.list().catch(() => [])).length, 0, 'not written while the fresh lock is held');
  await rm(lock);
  await done;
  t.is((await store.list()).length, 1);
});
