// disk-fill, pure parts: how many bytes fill a file system to a percentage (as df counts it), reading df, and the
// refusal of a file system too large to be anything but the host's disk.

import test from 'ava';
import { fillBytes, parseDf, refuseLarge, DEFAULT_MAX_FS } from '../../src/faults/disk-fill.js';
import { faults } from '../../src/faults/registry.js';
import { parseParams } from '../../src/faults/params.js';

const GiB = 1024 ** 3;

test('fillBytes: to a percentage of used + available (reserved blocks count in neither), to full at 100 %', (t) => {
  const fs = { size: 100 * GiB, used: 20 * GiB, avail: 75 * GiB }; // 5 GiB reserved for root
  t.is(fillBytes(fs, 100), 75 * GiB);
  t.is(fillBytes(fs, 50), Math.ceil(95 * GiB * 0.5) - 20 * GiB);
  t.is(fillBytes(fs, 10), 0, 'already fuller than asked: nothing to write');
  t.is(fillBytes({ size: 64 * 1024 ** 2, used: 0, avail: 64 * 1024 ** 2 }, 90), Math.ceil(64 * 1024 ** 2 * 0.9));
  t.is(fillBytes({ size: 10, used: 3, avail: 5 }, 99.9), 5, 'never more than is available');
});

test('parseDf reads the last line of df -B1 -P', (t) => {
  const out = 'Filesystem 1-blocks Used Available Capacity Mounted on\nshm 67108864 4096 67104768 1% /dev/shm\n';
  t.deepEqual(parseDf(out), { size: 67108864, used: 4096, avail: 67104768 });
  t.throws(() => parseDf('garbage'), { message: /cannot read df/ });
});

test("refuseLarge: the host's 252 GiB disk is refused in one line naming the bound and the way out; a 64 MiB tmpfs is not", (t) => {
  const host = { size: 252 * GiB, used: 29 * GiB, avail: 72 * GiB };
  const line = refuseLarge('/var/lib/mysql in db-primary-mariadb', host, DEFAULT_MAX_FS)!;
  t.regex(line, /252 GiB file system .*larger than max_fs_size 4\.00 GiB.*host's disk.*tmpfs, a loop-mounted volume/);
  t.false(line.includes('\n'));
  t.is(refuseLarge('/dev/shm in x', { size: 64 * 1024 ** 2, used: 0, avail: 64 * 1024 ** 2 }, DEFAULT_MAX_FS), undefined);
});

test('parameters: percent 1–100 (default full), max_fs_size a bounded size (default 4G)', (t) => {
  const def = faults.get('disk-fill');
  t.like(parseParams('disk-fill', def.params, {}), { percent: 100, max_fs_size: 4 * GiB });
  t.like(parseParams('disk-fill', def.params, { percent: '90', path: '/dev/shm' }), { percent: 90, path: '/dev/shm' });
  t.throws(() => parseParams('disk-fill', def.params, { percent: 0 }));
  t.throws(() => parseParams('disk-fill', def.params, { max_fs_size: '100G' }));
});
