// bench/faults.ts's cases for the fault proxy (issue 22: inject → effect < 500 ms, revert → healthy < 1 s): each new
// proxy fault, and net-latency through the proxy on a kernel without netem, on the LB → web1 :80 hop. The effect is
// seen by HTTP requests from an observer in the LB's network namespace (one node loop, a request every 20 ms, each
// timed from its start to its socket's close; delays of 1.2 s, so that a loaded machine's slow answers are not taken for
// the effect); the reference is the same helper script (proxy-config.ts) started and
// removed with the docker CLI, without faultline's record, firewall read or checks.

import { helperScript, PROXY_PORTS, PROXY_UID, undoScript, type Diversion } from '../src/faults/proxy-config.js';
import { proxyImage } from '../src/faults/proxy-image.js';
import type { FaultContext } from '../src/faults/index.js';
import { docker as run, execLoopWatch, observerLoop, type Case, type Watch } from './watch.js';

/** A case of bench/faults.ts's table whose fault goes through the fault proxy. */
type ProxyCase = Case & { kind: 'proxy' };

/**
 * A request every 20 ms, raw HTTP/1.0 (the server closes), printed as "<start ms> <ms until the server closed>
 * <status|0 error|-1 timeout>": the time to the server's close, so a slow close shows as well as a slow answer. An
 * answer cut short (fewer body bytes than its Content-Length, or no end of head) is an error: a paced answer in flight
 * when the proxy goes has already shown its status line, and is not a success.
 */
const HTTP_LOOP = observerLoop(
  ['host', 'port', 'path'],
  20,
  `  let got = '';
  const sock = net.connect({ host, port: Number(port) }, () => sock.write('GET ' + path + ' HTTP/1.0\\r\\n\\r\\n'));
  const took = () => (Date.now() - at) + ' ';
  sock.setTimeout(3000, () => finish(took() + -1));
  sock.on('data', (c) => { if (got.length < 65536) got += c.toString('latin1'); });
  sock.on('end', () => {
    const m = /^HTTP\\/1\\.[01] (\\d{3})/.exec(got);
    const split = got.indexOf('\\r\\n\\r\\n');
    const length = /\\r\\ncontent-length: *(\\d+)/i.exec(split < 0 ? '' : got.slice(0, split));
    const whole = split >= 0 && (!length || got.length - split - 4 >= Number(length[1]));
    finish(took() + (m && whole ? Number(m[1]) : 0));
  });
  sock.on('error', () => finish(took() + 0));`,
);

function httpWatch(observerId: string, target: string, on: (ms: number, status: number) => boolean): Watch {
  return execLoopWatch(
    observerId,
    HTTP_LOOP,
    [target, '80', '/health'],
    ([ms, status]) => (/^\d+$/.test(ms ?? '') && /^-?\d+$/.test(status ?? '') ? { on: on(Number(ms), Number(status)), tookMs: Number(ms) } : undefined),
    3000 + 400,
  );
}

/** The cases; `observer` is a container in the LB's network namespace, `web1` the web1 host's id and address (and the LB's, which its firewall admits). */
export async function proxyCases(ctx: FaultContext, observer: string, web1: { id: string; ip: string; lbIp: string }): Promise<ProxyCase[]> {
  const image = await proxyImage(ctx, web1.id, AbortSignal.timeout(300_000));
  // Anything but a quick success is the effect: a request in flight through the proxy when the revert removes it fails,
  // and is not the stack whole again.
  const slow = (ms: number) => (t: number, status: number) => !(status === 200 && t < ms);
  const failed = (_t: number, status: number) => status <= 0;
  const watchOf = (on: (ms: number, status: number) => boolean) => () => httpWatch(observer, web1.ip, on);
  /** The bare reference: the same helper script and configuration through `docker run` / `docker exec` + `docker rm -f`. */
  const bare = (config: Record<string, unknown>) => {
    const d: Diversion = {
      table: 'fl_benchref',
      port: 80,
      proxyPort: PROXY_PORTS.to,
      peers: [],
      firewall: { table: 'inet faultline', chain: 'input', sources: [web1.lbIp] },
    };
    let id = '';
    const full = JSON.stringify({ listen: d.proxyPort, upstreamPort: 80, uid: PROXY_UID, ratio: 1, toxics: {}, ...config });
    return {
      what: 'docker run proxy helper / docker exec undo + rm -f (no record, no firewall read)',
      apply: async () => {
        const script = helperScript(d, 'bench-ref', 300, 'faultline-fault-applied');
        id = await run([
          'run',
          '-d',
          '--label',
          'faultline.bench=proxy-ref',
          '--network',
          `container:${web1.id}`,
          '--cap-add',
          'NET_ADMIN',
          '-e',
          `PROXY_CONFIG=${full}`,
          '--entrypoint',
          'sh',
          image,
          '-c',
          script,
        ]);
        // Applied once the script says so (its own readiness, as faultline waits for it).
        for (let i = 0; i < 200 && !(await run(['logs', id])).includes('faultline-fault-applied'); i += 1) await new Promise((r) => setTimeout(r, 25));
      },
      revert: async () => {
        await run(['exec', id, 'sh', '-c', undoScript(d, 'bench-ref')]);
        await run(['rm', '-f', id]);
      },
    };
  };
  return [
    {
      fault: 'proxy-latency',
      kind: 'proxy',
      input: { target: 'server=web1', params: { port: 80, delay: '1200ms' } },
      watch: watchOf(slow(1100)),
      ref: bare({ mode: 'tcp', toxics: { down: { latency: { ms: 1200, jitter: 0 } } } }),
    },
    {
      fault: 'proxy-bandwidth',
      kind: 'proxy',
      input: { target: 'server=web1', params: { port: 80, rate: '100' } },
      watch: watchOf(slow(1100)),
      ref: bare({ mode: 'tcp', toxics: { down: { bandwidth: 100 } } }),
    },
    {
      fault: 'proxy-slow-close',
      kind: 'proxy',
      input: { target: 'server=web1', params: { port: 80, delay: '1200ms' } },
      watch: watchOf(slow(1100)),
      ref: bare({ mode: 'tcp', toxics: { slowClose: { ms: 1200 } } }),
    },
    {
      fault: 'proxy-reset',
      kind: 'proxy',
      input: { target: 'server=web1', params: { port: 80 } },
      watch: watchOf(failed),
      ref: bare({ mode: 'tcp', toxics: { reset: { afterMs: 0 } } }),
    },
    {
      fault: 'proxy-timeout',
      kind: 'proxy',
      input: { target: 'server=web1', params: { port: 80 } },
      watch: watchOf((_t, status) => status === -1),
      ref: bare({ mode: 'tcp', toxics: { timeout: { ms: 0 } } }),
    },
    {
      fault: 'http-abort',
      kind: 'proxy',
      input: { target: 'server=web1' },
      watch: watchOf((_t, status) => status === 503),
      ref: bare({ mode: 'http', http: { action: 'abort', status: 503 } }),
    },
    {
      fault: 'http-delay',
      kind: 'proxy',
      input: { target: 'server=web1', params: { delay: '1200ms' } },
      watch: watchOf(slow(1100)),
      ref: bare({ mode: 'http', http: { action: 'delay', delayMs: 1200 } }),
    },
    {
      fault: 'http-reset',
      kind: 'proxy',
      input: { target: 'server=web1' },
      watch: watchOf(failed),
      ref: bare({ mode: 'http', http: { action: 'reset' } }),
    },
    {
      fault: 'net-latency',
      kind: 'proxy',
      input: { target: 'server=web1', params: { port: 80, delay: '1200ms', jitter: '0ms' } },
      watch: watchOf(slow(1100)),
      ref: bare({ mode: 'tcp', toxics: { down: { latency: { ms: 1200, jitter: 0 } } } }),
    },
  ];
}
