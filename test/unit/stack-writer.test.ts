// Asking the database LB for the writer: the admin socket's path comes from a stack description (a file), so it is
// checked by a strict pattern where the file is read and again where it is used, and reaches bash only as an argument.

import test from 'ava';
import { parseStackSpec } from '../../src/stack/spec.js';
import { currentWriter } from '../../src/stack/writer.js';
import { FaultlineError, InvalidFileError } from '../../src/errors.js';
import { containerSummary } from '../helpers/fake-docker.js';

const minimal = { project: 'shop', endpoint: { url: 'https://127.0.0.1:9443', insecure: true } };
const injected = '/run/haproxy/admin.sock; touch /tmp/pwned #';

const lb = containerSummary({ id: 'lb1', name: 'db-lb-haproxy', server: 'db-lb', component: 'haproxy', state: 'running' });
const csv = '# pxname,svname,status,bck\ngalera,node1,UP,0\ngalera,node2,UP,1\n';

test('issue 18 finding 5: a writer.socket with shell text is refused when the stack description is read', (t) => {
  const err = t.throws(() => parseStackSpec({ ...minimal, writer: { server: 'db-lb', proxy: 'galera', socket: injected } }, '/x/shop.stack.yaml', {}));
  t.true(err instanceof InvalidFileError);
  t.regex(err!.message, /writer\.socket/);
  const ok = parseStackSpec({ ...minimal, writer: { server: 'db-lb', proxy: 'galera', socket: '/var/run/haproxy-admin.sock' } }, '/x/shop.stack.yaml', {});
  t.is(ok.writer?.socket, '/var/run/haproxy-admin.sock');
});

test('issue 18 finding 5: currentWriter never puts the socket path into shell text, and refuses one that is not a plain path', async (t) => {
  const calls: string[][] = [];
  const exec = async (_id: string, cmd: string[]) => {
    calls.push(cmd);
    return { exitCode: 0, stdout: csv, stderr: '' };
  };
  const writer = await currentWriter({ file: 'x', writer: { server: 'db-lb', proxy: 'galera', socket: '/run/haproxy/admin.sock' } }, [lb], exec);
  t.is(writer, 'node1');
  const [cmd] = calls;
  t.is(cmd![0], 'bash');
  t.false(cmd![2]!.includes('/run/haproxy/admin.sock'), 'the script text holds no path');
  t.is(cmd![cmd!.length - 1], '/run/haproxy/admin.sock', 'the path is an argument');

  // A spec built in code (not through the schema) is checked again before anything runs.
  calls.length = 0;
  const err = await t.throwsAsync(currentWriter({ file: 'x', writer: { server: 'db-lb', proxy: 'galera', socket: injected } }, [lb], exec));
  t.true(err instanceof FaultlineError);
  t.is((err as FaultlineError).code, 'INVALID_INPUT');
  t.deepEqual(calls, [], 'nothing was executed');
});
