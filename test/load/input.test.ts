// Bad input gives one clear line and exit code 2, and nothing is sent: checked through the real CLI and the library.
import test from 'ava';
import { spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { runLoad, startLoad } from '../../src/load/index.js';
import { FaultlineError, ExitCode } from '../../src/errors.js';
import { startServer } from './_support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', 'src/cli/main.ts', 'load', ...args], {
      cwd: root,
      env: { ...process.env, CI: 'true', FAULTLINE_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('the CLI refuses bad input with one line, exit code 2, and sends nothing', async (t) => {
  const server = await startServer({ recordArrivals: true });
  t.teardown(() => server.close());
  const cases: Array<[string, string[], RegExp]> = [
    ['rate 0', [server.url, '--rate', '0', '--duration', '1s'], /^faultline: rate: /],
    [
      'unknown mix name',
      [server.url, '--mix', 'read=9,delete=1', '--duration', '1s'],
      /^faultline: mix: unknown request "delete" \(requests: whoami, read, write\)$/,
    ],
    [
      'missing workload file',
      [server.url, '--workload', '/nonexistent/w.yaml', '--mix', 'a=1'],
      /^faultline: workload: cannot read \/nonexistent\/w\.yaml: ENOENT/,
    ],
    ['malformed URL', ['http//127.0.0.1:8080', '--duration', '1s'], /^faultline: url: not a valid URL/],
    ['remote target', ['http://example.com/', '--duration', '1s'], /^faultline: url: example\.com is not a loopback address/],
    ['rate and connections', [server.url, '--rate', '10', '--connections', '5'], /^faultline: rate: cannot be combined with --connections/],
    ['bad duration', [server.url, '--duration', 'soon'], /^faultline: duration: /],
    ['missing CA file', [server.url.replace('http:', 'https:'), '--ca', '/nonexistent/ca.pem'], /^faultline: ca: cannot read/],
  ];
  const results = await Promise.all(cases.map(([, args]) => cli(args)));
  cases.forEach(([name, , pattern], i) => {
    const r = results[i] as Awaited<ReturnType<typeof cli>>;
    t.is(r.code, ExitCode.invalidInput, `${name}: exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    t.is(lines.length, 1, `${name}: one line, got ${JSON.stringify(r.stderr)}`);
    t.regex(lines[0] ?? '', pattern, name);
    t.is(r.stdout, '', `${name}: nothing on stdout`);
  });
  t.is(server.connections, 0, 'no connection was opened');
  t.is(server.arrivals.length, 0, 'no request was sent');
});

test('the CLI runs a short load and prints one line in CI', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const r = await cli([server.url, '--rate', '50', '--duration', '500ms']);
  t.is(r.code, ExitCode.ok, r.stderr);
  t.is(r.stderr, '');
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  t.is(lines.length, 1, r.stdout);
  // A fresh process compiles its HTTP client on the first connect: on a loaded machine its first requests can leave
  // past the late bound, which the line says (LATE is then the only error and the ok share is what is left).
  const line = lines[0] ?? '';
  t.regex(line, /^faultline load paced 50 req\/s .*: 25 requests in 0\.5 s /);
  const late = Number(/ (\d+) late,/.exec(line)?.[1] ?? 0);
  t.true(late <= 5, line);
  t.regex(line, late === 0 ? /100\.00% ok, 0 errors/ : new RegExp(`${(((25 - late) / 25) * 100).toFixed(2)}% ok, ${late} errors \\(LATE ×${late}\\)`), line);
  const json = await cli([server.url, '--connections', '2', '--requests', '20', '--json']);
  t.is(json.code, ExitCode.ok, json.stderr);
  const parsed = JSON.parse(json.stdout) as { summary: { sent: number; successes: number }; timeline: { buckets: unknown[] } };
  t.is(parsed.summary.sent, 20);
  t.is(parsed.summary.successes, 20);
  t.true(parsed.timeline.buckets.length > 0);
});

test.serial('the library throws INVALID_INPUT before any socket opens', async (t) => {
  const sockets: unknown[] = [];
  const onSocket = (m: unknown) => sockets.push(m);
  diagnostics.subscribe('net.client.socket', onSocket);
  t.teardown(() => diagnostics.unsubscribe('net.client.socket', onSocket));
  const server = await startServer();
  t.teardown(() => server.close());
  const bad = [
    { url: server.url, rate: 0 },
    { url: server.url, mix: 'read=1,delete=1' },
    { url: 'http//nope' },
    { url: 'http://example.com/' },
    { url: 'http://192.168.1.10:8080/', rate: 10 },
  ];
  for (const input of bad) {
    const err = t.throws(() => startLoad(input), { instanceOf: FaultlineError }, JSON.stringify(input));
    t.is(err?.code, 'INVALID_INPUT');
    await t.throwsAsync(runLoad(input), { instanceOf: FaultlineError });
  }
  const aborted = AbortSignal.abort();
  const abortErr = t.throws(() => startLoad({ url: server.url, rate: 10 }, { signal: aborted }), { instanceOf: FaultlineError });
  t.is(abortErr?.code, 'ABORTED');
  t.is(sockets.length, 0);
  t.is(server.connections, 0);
});

test.serial('stop() and abort end a run early with what was measured', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const job = startLoad({ url: server.url, rate: 100, durationMs: 60_000 });
  setTimeout(() => job.stop(), 500);
  const stopped = await job.result;
  t.is(stopped.stopReason, 'stopped');
  t.true(stopped.durationMs < 2000);
  t.true(stopped.summary.successes > 10);
  const controller = new AbortController();
  const closed = startLoad({ url: server.url, connections: 2, durationMs: 60_000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 500);
  const aborted = await closed.result;
  t.is(aborted.stopReason, 'aborted');
  t.true(aborted.durationMs < 2000);
  t.true(aborted.summary.successes > 10);
});
