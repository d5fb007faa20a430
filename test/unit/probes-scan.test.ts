// The exposure probe's in-container scan script, run here with a fake `timeout` (which runs each bash /dev/tcp
// connect), so no packet leaves: expected-open targets ("+") get two more, longer tries before they count as
// closed; every other target is tried once.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCAN_SCRIPT, parseScanOutput, scanArgs } from '../../src/probes/exposure.js';

test('scanArgs marks allowed targets with "+"', (t) => {
  t.deepEqual(
    scanArgs([
      { address: '10.0.0.10', port: 443, expectOpen: true },
      { address: '10.0.0.31', port: 3306, expectOpen: false },
    ]),
    ['+10.0.0.10:443', '10.0.0.31:3306'],
  );
});

test('an expected-open port that misses its first connect is retried; others are tried once', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-scan-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Fake timeout (called as: timeout <secs> bash -c <connect> <host> <port>): logs "<host>:<port> -w <secs>",
  // fails the first attempt on port 443, succeeds on port 80, never connects.
  writeFileSync(
    join(dir, 'timeout'),
    `#!/bin/bash\nh=$5; p=$6; echo "$h:$p -w $1" >> ${dir}/log\nif [ "$p" = 80 ]; then exit 0; fi\nif [ "$p" = 443 ] && [ -f ${dir}/seen ]; then exit 0; fi\n[ "$p" = 443 ] && touch ${dir}/seen\nexit 1\n`,
  );
  chmodSync(join(dir, 'timeout'), 0o755);
  const out = execFileSync('bash', ['-c', SCAN_SCRIPT, 'scan', '4', '1', '+10.0.0.10:443', '10.0.0.10:22', '+10.0.0.10:8404', '10.0.0.10:80'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
  });
  const seen = parseScanOutput(out);
  t.deepEqual(Object.fromEntries(seen), { '10.0.0.10:443': true, '10.0.0.10:22': false, '10.0.0.10:8404': false, '10.0.0.10:80': true });
  const log = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n').sort();
  // 443: 1 s then 2 s (open); 8404: 1, 2, 3 s (closed); 22 and 80: once.
  t.deepEqual(log, [
    '10.0.0.10:22 -w 1',
    '10.0.0.10:443 -w 1',
    '10.0.0.10:443 -w 2',
    '10.0.0.10:80 -w 1',
    '10.0.0.10:8404 -w 1',
    '10.0.0.10:8404 -w 2',
    '10.0.0.10:8404 -w 3',
  ]);
});
