// Fault timings: for each fault kind, the time from inject() being called until an independent check sees the
// effect, and from revert() being called until the same check sees the stack whole again (median of N runs).
// Each is printed with its ratio against a reference measured in the same run, interleaved with the faults
// (so both see the same machine load): the bare operation through the docker CLI —
//   process      `docker kill` / `docker pause`, then `docker start` / `docker unpause`
//   certificate  the same file swapped with `docker exec -i … cat >` plus SIGUSR2 to HAProxy (a bare reload)
//   firewall     the same nft change with `docker exec … nft`
//   network      the same nft table (partition, loss) with `docker exec … sh -c`, not a helper container
//   resource     `docker run -d … stress-ng` beside the server, then `docker rm -f`
// Independent checks, none of them through src/faults: Docker's own container state; TLS handshakes from this
// host to the published port; TCP connects launched every 10 ms, from this host or from inside a server's
// network namespace (an observer container, bash /dev/tcp), timestamped when each attempt starts; stress-ng
// processes seen in this host's /proc. An edge is the first sample after which every sample agrees.
//
// Run (the stack must be up; uses FAULTLINE_* like the CLI):  npx tsx bench/faults.ts [fault ...]
// BENCH_RUNS (default 5). Everything is reverted, also on Ctrl-C; `faultline revert --all` is the backstop.
// About 20 s per run of a case at load 5-10 (each run is four measurements: fault and bare reference, in and out), so
// the nine proxy cases (bench/proxy-cases.ts) take about 9 min with BENCH_RUNS=3. The observers and the docker CLI
// call are bench/watch.ts's, shared with the proxy cases.

import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { attachStack } from '../src/stack/attach.js';
import { webServersOf } from '../src/stack/servers.js';
import { LABEL, type ContainerState } from '../src/stack/docker-client.js';
import { createFaultContext, defaultRegistry, injectFault, revertRecorded, type ActiveFault } from '../src/faults/index.js';
import { badCertificate, configEdits, LB_FILES } from '../src/faults/certificate-faults.js';
import { haproxyHttpFault } from '../src/faults/edge-http-config.js';
import { request } from '../src/util/http.js';
import { restoreScript } from '../src/faults/firewall-faults.js';
import { lossScripts, partitionScripts } from '../src/faults/network-faults.js';
import { handshake, legacyHandshake } from '../src/faults/tls-check.js';
import { proxyCases } from './proxy-cases.js';
import { docker as dockerCli, execLoopWatch, observerLoop, type Case, type Sample, type Watch } from './watch.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WINDOW_MAX_MS = 120_000;
/** After the operation returned and the edge was seen, the new state must hold this long. */
const STABLE_MS = 400;
/** A TCP attempt without an answer by then counts as closed (dropped). */
const ATTEMPT_TIMEOUT_MS = 1000;

const stack = await attachStack();
const docker = stack.docker;
const ctx = createFaultContext(stack, { holdMs: 900_000 });
const registry = defaultRegistry();
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));
const ca = await stack.ca();
const DB = stack.addresses['db-primary']!;

// ---------------------------------------------------------------------------------------------------------
// Small helpers.

/** The docker CLI, for the bare references (bench/watch.ts). */
const sh = (args: string[], stdin?: string): Promise<void> => dockerCli(args, stdin).then(() => undefined);

const containers = async () => (await stack.containers()).filter((c) => !c.labels[LABEL.fault]);
async function serviceId(service: string): Promise<string> {
  const c = (await containers()).find((x) => x.service === service);
  if (!c) throw new Error(`no ${service} in stack ${stack.project}`);
  return c.id;
}
async function hostId(server: string): Promise<string> {
  const c = (await containers()).find((x) => x.server === server && x.component === 'host');
  if (!c) throw new Error(`no host container for ${server}`);
  return c.id;
}
async function execOut(id: string, cmd: string[]): Promise<string> {
  const res = await docker.exec(id, cmd);
  if (res.exitCode !== 0) throw new Error(`${cmd.join(' ')} in ${id.slice(0, 12)}: ${res.stderr.trim()}`);
  return res.stdout;
}

// ---------------------------------------------------------------------------------------------------------
// Watchers: each collects timestamped samples (true = the fault's effect is there) until stopped.

/** Calls `check` back to back; a sample is timed when its answer arrives; undefined (or a throw) is no sample. */
function pollWatch(check: () => Promise<boolean | undefined>): Watch {
  const samples: Sample[] = [];
  let running = true;
  let first: () => void = () => undefined;
  const ready = new Promise<void>((r) => (first = r));
  const loop = (async () => {
    while (running) {
      const on = await check().catch(() => undefined);
      if (on !== undefined) samples.push({ at: Date.now(), on });
      first();
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    ready,
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** TCP connects from this host every 10 ms, each timed at its start; `on` means open when `effectIsOpen`, closed otherwise. */
function tcpWatch(host: string, port: number, effectIsOpen: boolean): Watch {
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  const attempt = () => {
    const at = Date.now();
    const p = new Promise<void>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (open: boolean) => {
        socket.destroy();
        samples.push({ at, on: open === effectIsOpen });
        resolve();
      };
      socket.setTimeout(ATTEMPT_TIMEOUT_MS, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  attempt();
  const timer = setInterval(attempt, 10);
  return {
    ready: Promise.resolve(),
    samples,
    settleMs: ATTEMPT_TIMEOUT_MS + STABLE_MS,
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

/** The TCP attempts, as a script for node: one connect every 10 ms, "1" open or "0" not. */
const CONNECT_LOOP = observerLoop(
  ['host', 'port', 'timeoutMs'],
  10,
  `  const sock = net.connect({ host, port: Number(port) });
  sock.setTimeout(Number(timeoutMs), () => finish('0'));
  sock.once('connect', () => finish('1'));
  sock.once('error', () => finish('0'));`,
);

/**
 * The same from inside a server's network namespace: an observer container (this bench's own, from the
 * stack's app image for its node, without the stack's label so no fault or probe ever sees it) runs the
 * loop above until its stdin closes.
 */
function nsWatch(observerId: string, target: string, port: number, effectIsOpen: boolean): Watch {
  return execLoopWatch(
    observerId,
    CONNECT_LOOP,
    [target, String(port), String(ATTEMPT_TIMEOUT_MS)],
    ([open]) => (open === '1' || open === '0' ? { on: (open === '1') === effectIsOpen } : undefined),
    ATTEMPT_TIMEOUT_MS + STABLE_MS,
  );
}

const labelCache = new Map<string, Record<string, string>>();
/** stress-ng processes of this stack's fault helpers (or of the bench's reference container), from /proc. */
async function ourStress(refLabel: string): Promise<boolean> {
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm !== 'stress-ng\n') continue;
    const id = /[0-9a-f]{64}/.exec(await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => ''))?.[0];
    if (!id) continue;
    let labels = labelCache.get(id);
    if (!labels) {
      labels = (await docker.inspect(id).catch(() => undefined))?.labels ?? {};
      labelCache.set(id, labels);
    }
    if ((labels[LABEL.stack] === stack.project && labels[LABEL.fault]) || labels['faultline.bench'] === refLabel) return true;
  }
  return false;
}

/**
 * First sample time (at or after `from`) after which every sample shows `on`; undefined if the last one does
 * not. A median of three first drops lone outliers (a SYN lost in a full accept queue on a loaded machine)
 * without moving a real edge.
 */
function edge(samples: Sample[], on: boolean, from: number): number | undefined {
  const sorted = samples.filter((x) => x.at >= from).sort((a, b) => a.at - b.at);
  const smooth = sorted.map((x, i) => {
    const prev = sorted[i - 1]?.on ?? x.on;
    const next = sorted[i + 1]?.on ?? x.on;
    return { at: x.at, on: prev === next ? prev : x.on };
  });
  let t: number | undefined;
  for (const x of smooth) {
    if (x.on === on) t ??= x.at;
    else t = undefined;
  }
  return t;
}

/**
 * Starts `watch`, checks the state before is the opposite of `want`, runs `op`, and keeps watching until the
 * wanted state has held for STABLE_MS after op returned. Returns [watch → edge, op duration] in ms.
 */
async function measure(what: string, makeWatch: () => Watch, want: boolean, op: () => Promise<unknown>): Promise<{ edgeMs: number; opMs: number }> {
  const w = makeWatch();
  try {
    return await measured(w, want, op);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  } finally {
    await w.stop().catch(() => undefined);
  }
}

async function measured(w: Watch, want: boolean, op: () => Promise<unknown>): Promise<{ edgeMs: number; opMs: number }> {
  await w.ready;
  await new Promise((r) => setTimeout(r, 60));
  // Wall-clock ms: the observers inside containers stamp with the same (kernel) clock.
  const t0 = Date.now();
  await op();
  const t1 = Date.now();
  for (;;) {
    const now = Date.now();
    const e = edge(w.samples, want, t0);
    if (e !== undefined && now - Math.max(e, t1) >= (w.settleMs ?? STABLE_MS)) break;
    if (now - t0 > WINDOW_MAX_MS) throw new Error(`no stable ${want ? 'effect' : 'recovery'} within ${WINDOW_MAX_MS} ms`);
    interrupt.signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, 50));
  }
  await w.stop();
  // The state before is read from samples whose outcome was known before the operation: one still in flight may be
  // cut short by it (a paced or slow-closing answer through a proxy that goes away ends early and whole).
  const before = w.samples
    .filter((s) => (s.end ?? s.at) < t0)
    .sort((a, b) => a.at - b.at)
    .slice(-3);
  if (before.length && before.filter((s) => s.on === want).length * 2 > before.length)
    throw new Error(
      `the check saw the ${want ? 'effect' : 'whole stack'} before the operation: it cannot tell ` +
        `(last samples before it, ms before the call: ${before.map((s) => `${t0 - s.at}${s.raw === undefined ? '' : ` [${s.raw}]`} ${s.on ? 'effect' : 'whole'}`).join('; ')})`,
    );
  const final = edge(w.samples, want, t0);
  if (final === undefined) throw new Error(`the ${want ? 'effect' : 'whole stack'} did not hold to the end of the window`);
  return { edgeMs: final - t0, opMs: t1 - t0 };
}

// ---------------------------------------------------------------------------------------------------------
// The cases.

const GOAL_MS = { process: 500, certificate: 1000, firewall: 200, network: 200, resource: 500, proxy: 500, edge: 500, disk: 500 } as const;
/** Where revert → whole has a goal of its own (issue 22: inject → effect < 500 ms, revert → healthy < 1 s). */
const REVERT_GOAL_MS: Partial<Record<Case['kind'], number>> = { edge: 1000, disk: 1000, proxy: 1000 };

const state = (id: string) => docker.inspect(id);
const up = (s: ContainerState) => s.running && !s.paused && (s.health === 'healthy' || s.health === 'none');

const observers: string[] = [];
async function observerIn(server: string): Promise<string> {
  const id = await docker.runDetached({
    image: (await docker.inspect(await serviceId('web1-app'))).image,
    entrypoint: ['sleep', '3600'],
    cmd: [],
    labels: { 'faultline.bench': 'observer' },
    networkMode: `container:${await hostId(server)}`,
  });
  observers.push(id);
  return id;
}

async function cases(): Promise<Case[]> {
  const web3app = await serviceId('web3-app');
  const web2nginx = await serviceId('web2-nginx');
  const mariadb = await serviceId('db-primary-mariadb');
  const haproxy = await serviceId('lb-haproxy');
  const dbHost = await hostId('db-primary');
  const monitorObs = await observerIn('monitor');
  const web1Obs = await observerIn('web1');
  const lbObs = await observerIn('lb');
  const savedTable = await execOut(dbHost, ['nft', 'list', 'table', 'inet', 'faultline']);
  const restoreDb = () => sh(['exec', '-i', dbHost, 'nft', '-f', '-'], restoreScript(savedTable));
  const pem = await execOut(haproxy, ['cat', LB_FILES.certificate]);
  const cfg = await execOut(haproxy, ['cat', LB_FILES.config]);
  const expired = await badCertificate(ctx, 'expired');
  const swap = (path: string, content: string) => sh(['exec', '-i', haproxy, 'sh', '-c', `cat > ${path} && kill -USR2 1`], content);
  const original = (await handshake({ port: stack.options.httpsPort, ca })).certificate?.fingerprint256;
  const webIps = webServersOf(await stack.containers()).map((w) => stack.addresses[w]!);
  const partition = partitionScripts('fl_bench_ref', webIps);
  const loss = lossScripts('fl_bench_ref', 100);
  const refLabel = `ref-${process.pid}`;
  let stressRef = '';
  const whoami = `https://127.0.0.1:${stack.options.httpsPort}/whoami`;
  const aborted = async () => (await request(whoami, { ca: ca!, servername: 'localhost', timeoutMs: 2000 })).status === 503;
  const abortCfg = haproxyHttpFault(cfg, { mode: 'abort', faultId: 'bench-ref', percent: 100, status: 503, path: '/whoami' });
  const dfFull = async () => Number((await execOut(mariadb, ['df', '-B1', '-P', '/dev/shm'])).trim().split('\n')[1]!.trim().split(/\s+/)[3]) < 1024 * 1024;

  return [
    {
      fault: 'container-kill',
      kind: 'process',
      input: { target: 'web3-app' },
      watch: () => pollWatch(async () => !up(await state(web3app))),
      ref: { what: 'docker kill / start', apply: () => sh(['kill', web3app]), revert: () => sh(['start', web3app]) },
    },
    {
      fault: 'container-pause',
      kind: 'process',
      input: { target: 'web2-nginx' },
      watch: () => pollWatch(async () => (await state(web2nginx)).paused),
      ref: { what: 'docker pause / unpause', apply: () => sh(['pause', web2nginx]), revert: () => sh(['unpause', web2nginx]) },
    },
    {
      fault: 'db-primary-kill',
      kind: 'process',
      input: {},
      // The effect from the network (3306 refuses); whole again when Docker says it is healthy.
      watch: () => tcpWatch(DB, 3306, false),
      whole: () => pollWatch(async () => !up(await state(mariadb))),
      ref: { what: 'docker kill / start', apply: () => sh(['kill', mariadb]), revert: () => sh(['start', mariadb]) },
    },
    {
      fault: 'cert-expired',
      kind: 'certificate',
      input: {},
      watch: () =>
        pollWatch(async () => {
          const hs = await handshake({ port: stack.options.httpsPort, ca, timeoutMs: 2000 });
          // A failed handshake tells nothing either way.
          if (!hs.certificate) return undefined;
          return hs.certificate.fingerprint256 !== original;
        }),
      ref: {
        what: 'docker exec cat > site.pem + SIGUSR2',
        apply: () => swap(LB_FILES.certificate, expired.certPem + expired.keyPem),
        revert: () => swap(LB_FILES.certificate, pem),
      },
    },
    {
      fault: 'tls-legacy',
      kind: 'certificate',
      input: {},
      watch: () => pollWatch(async () => (await legacyHandshake(stack.options.httpsPort, 'TLSv1')).ok),
      ref: {
        what: 'docker exec cat > haproxy cfg + SIGUSR2',
        apply: () => swap(LB_FILES.config, configEdits.haproxy['legacy-tls'](cfg)),
        revert: () => swap(LB_FILES.config, cfg),
      },
    },
    {
      fault: 'firewall-open-port',
      kind: 'firewall',
      input: { params: { port: 3306 } },
      watch: () => nsWatch(monitorObs, DB, 3306, true),
      ref: {
        what: 'docker exec nft insert rule / nft -f',
        apply: () => sh(['exec', dbHost, 'nft', 'insert', 'rule', 'inet', 'faultline', 'input', 'tcp', 'dport', '3306', 'accept']),
        revert: restoreDb,
      },
    },
    {
      fault: 'firewall-flush',
      kind: 'firewall',
      input: {},
      watch: () => nsWatch(monitorObs, DB, 3306, true),
      ref: {
        what: 'docker exec nft delete table / nft -f',
        apply: () => sh(['exec', dbHost, 'nft', 'delete', 'table', 'inet', 'faultline']),
        revert: restoreDb,
      },
    },
    {
      fault: 'net-partition',
      kind: 'network',
      input: { params: { from: 'role=web', to: 'server=db-primary' } },
      watch: () => nsWatch(web1Obs, DB, 3306, false),
      ref: {
        what: 'docker exec nft table (no helper)',
        apply: () => sh(['exec', dbHost, 'sh', '-c', partition.apply]),
        revert: () => sh(['exec', dbHost, 'sh', '-c', partition.revert]),
      },
    },
    {
      fault: 'net-loss',
      kind: 'network',
      input: { target: 'server=db-primary', params: { loss: '100%' } },
      watch: () => nsWatch(web1Obs, DB, 3306, false),
      ref: {
        what: 'docker exec nft table (no helper)',
        apply: () => sh(['exec', dbHost, 'sh', '-c', loss.apply]),
        revert: () => sh(['exec', dbHost, 'sh', '-c', loss.revert]),
      },
    },
    {
      fault: 'edge-abort',
      kind: 'edge',
      input: { params: { percent: 100, path: '/whoami' } },
      watch: () => pollWatch(aborted),
      ref: {
        what: 'docker exec cat > haproxy cfg (the same rules) + SIGUSR2',
        apply: () => swap(LB_FILES.config, abortCfg),
        revert: () => swap(LB_FILES.config, cfg),
      },
    },
    {
      fault: 'disk-fill',
      kind: 'disk',
      input: { target: 'server=db-primary,component=mariadb', params: { path: '/dev/shm' } },
      watch: () => pollWatch(dfFull),
      ref: {
        what: 'docker exec fallocate / rm -f (64 MiB tmpfs)',
        apply: () => sh(['exec', mariadb, 'sh', '-c', `fallocate -l $(df -B1 -P /dev/shm | awk 'NR==2 {print $4}') /dev/shm/bench-ref`]),
        revert: () => sh(['exec', mariadb, 'rm', '-f', '/dev/shm/bench-ref']),
      },
    },
    {
      fault: 'cpu-stress',
      kind: 'resource',
      input: { target: 'server=web3' },
      watch: () => pollWatch(() => ourStress(refLabel)),
      ref: {
        what: 'docker run -d stress-ng / docker rm -f',
        apply: async () => {
          const image = await stack.helperImage();
          const web3 = await hostId('web3');
          stressRef = await dockerCli([
            'run',
            '-d',
            '--label',
            `faultline.bench=${refLabel}`,
            '--network',
            `container:${web3}`,
            '--entrypoint',
            'stress-ng',
            image,
            '--cpu',
            '1',
            '--cpu-load',
            '100',
            '--quiet',
            '--timeout',
            '120s',
          ]);
        },
        revert: () => sh(['rm', '-f', stressRef]),
      },
    },
    // The fault proxy's faults on the LB → web1 :80 hop, seen from the LB (bench/proxy-cases.ts).
    ...(await proxyCases(ctx, lbObs, { id: await hostId('web1'), ip: stack.addresses.web1!, lbIp: stack.addresses.lb! })),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The run.

interface Row {
  fault: string;
  kind: Case['kind'];
  ref: string;
  inject: number[];
  injectReturn: number[];
  revert: number[];
  revertReturn: number[];
  refInject: number[];
  refRevert: number[];
  note?: string;
  /** Runs that failed and were done again. */
  failures?: number;
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const ms = (x: number) => (Number.isNaN(x) ? '-' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) || b <= 0 ? '-' : `${(a / b).toFixed(2)}×`);

async function snapshotText(): Promise<string> {
  const all = await stack.containers();
  const parts: string[] = [];
  for (const c of all.filter((x) => x.component === 'host' && !x.labels[LABEL.fault]).sort((a, b) => a.name.localeCompare(b.name))) {
    parts.push(`${c.server}:\n${(await docker.exec(c.id, ['sh', '-c', 'nft list ruleset; tc qdisc show'])).stdout}`);
  }
  parts.push(
    all
      .map((c) => `${c.service}=${c.state}${c.labels[LABEL.fault] ? ' (helper)' : ''}`)
      .sort()
      .join('\n'),
  );
  parts.push(`cert ${(await handshake({ port: stack.options.httpsPort, ca })).certificate?.fingerprint256}`);
  return parts.join('\n');
}

const only = process.argv.slice(2);
const rows: Row[] = [];
const before = await snapshotText();
let active: ActiveFault | undefined;
let refApplied: Case['ref'] | undefined;
try {
  const all = await cases();
  for (const unknown of only.filter((n) => n !== 'net-latency' && !all.some((c) => c.fault === n))) throw new Error(`no bench case for ${unknown}`);

  // net-latency needs sch_netem; say once what this kernel does.
  if (only.length === 0 || only.includes('net-latency')) {
    const row: Row = {
      fault: 'net-latency (no port=)',
      kind: 'network',
      ref: '-',
      inject: [],
      injectReturn: [],
      revert: [],
      revertReturn: [],
      refInject: [],
      refRevert: [],
    };
    try {
      const latency = await injectFault(
        ctx,
        registry.configure('net-latency', { target: 'server=db-primary', params: { delay: '100ms', jitter: '0ms' } }),
        AbortSignal.timeout(60_000),
      );
      await latency.revert();
      row.note = 'netem works here, but no bench case measures it yet';
    } catch (err) {
      row.note = /no netem/.test((err as Error).message)
        ? 'n/a: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM is not set); the fault refuses cleanly'
        : `failed: ${(err as Error).message}`;
    }
    rows.push(row);
  }

  for (const c of all.filter((x) => only.length === 0 || only.includes(x.fault))) {
    const row: Row = {
      fault: c.fault,
      kind: c.kind,
      ref: c.ref.what,
      inject: [],
      injectReturn: [],
      revert: [],
      revertReturn: [],
      refInject: [],
      refRevert: [],
    };
    rows.push(row);
    const whole = c.whole ?? c.watch;
    let failures = 0;
    for (let i = 0; i < RUNS;) {
      interrupt.signal.throwIfAborted();
      try {
        // The fault.
        const configured = registry.configure(c.fault, c.input);
        const inj = await measure('inject', c.watch, true, async () => {
          active = await injectFault(ctx, configured, AbortSignal.any([interrupt.signal, AbortSignal.timeout(60_000)]), { holdMs: 900_000 });
        });
        const rev = await measure('revert', whole, false, async () => {
          await active!.revert();
          active = undefined;
        });
        // The bare reference, right after, under the same load.
        const refInj = await measure('reference apply', c.watch, true, async () => {
          refApplied = c.ref;
          await c.ref.apply();
        });
        const refRev = await measure('reference revert', whole, false, async () => {
          await c.ref.revert();
          refApplied = undefined;
        });
        row.inject.push(inj.edgeMs);
        row.injectReturn.push(inj.opMs);
        row.revert.push(rev.edgeMs);
        row.revertReturn.push(rev.opMs);
        row.refInject.push(refInj.edgeMs);
        row.refRevert.push(refRev.edgeMs);
        i += 1;
        console.error(
          `${c.fault} #${i}: inject→effect ${ms(inj.edgeMs)} (ref ${ms(refInj.edgeMs)}), revert→whole ${ms(rev.edgeMs)} (ref ${ms(refRev.edgeMs)})`,
        );
      } catch (err) {
        // A run that failed (fault or reference) is put right and done again, a bounded number of times.
        if (interrupt.signal.aborted || ++failures > RUNS) throw err;
        console.error(`${c.fault}: run failed, restoring and trying again: ${(err as Error).message}`);
        await active?.revert();
        active = undefined;
        await refApplied?.revert().catch(() => undefined);
        refApplied = undefined;
      }
    }
    if (failures) row.failures = failures;
  }
} finally {
  await active?.revert().catch((err: unknown) => console.error(`revert failed: ${(err as Error).message}`));
  await refApplied?.revert().catch((err: unknown) => console.error(`reference revert failed: ${(err as Error).message}`));
  await revertRecorded(ctx, registry, { all: true });
  await Promise.all(observers.map((id) => docker.remove(id).catch(() => undefined)));
}

// Whatever happened, the stack must be as it was.
const after = await snapshotText();
const intact = after === before;

console.log(
  `\nfaultline fault timings, stack ${stack.project} (2 cores shared; medians of ${RUNS}; load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ')[0]})\n`,
);
const header = ['fault', 'goal', 'inject→effect', 'ref', 'ratio', 'revert→whole', 'ref', 'ratio', 'inject()', 'revert()', 'reference (bare, docker CLI)'];
const table: string[][] = [header];
for (const r of rows) {
  const goal = GOAL_MS[r.kind];
  const revertGoal = REVERT_GOAL_MS[r.kind] ?? goal;
  const inj = median(r.inject);
  const rev = median(r.revert);
  const mark = (x: number, bound: number = goal) => (Number.isNaN(x) ? '' : x <= bound ? ' ✓' : ' ✗');
  if (r.note) {
    table.push([r.fault, `< ${ms(goal)}`, '-', '-', '-', '-', '-', '-', '-', '-', r.note]);
    continue;
  }
  table.push([
    r.fault,
    revertGoal === goal ? `< ${ms(goal)}` : `< ${ms(goal)} / ${ms(revertGoal)}`,
    `${ms(inj)}${mark(inj)}`,
    ms(median(r.refInject)),
    ratio(inj, median(r.refInject)),
    `${ms(rev)}${mark(rev, revertGoal)}`,
    ms(median(r.refRevert)),
    ratio(rev, median(r.refRevert)),
    ms(median(r.injectReturn)),
    ms(median(r.revertReturn)),
    r.failures ? `${r.ref} (${r.failures} run(s) failed and were redone)` : r.ref,
  ]);
}
const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
for (const row of table)
  console.log(
    row
      .map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
console.log('\ninject→effect / revert→whole: from the call until an independent check sees it (✓ within the goal).');
console.log('inject() / revert(): until the call returned (it verifies the effect, or that the stack is back).');
console.log(`stack as before (rulesets, qdiscs, container states, certificate, no helpers): ${intact ? 'yes' : 'NO'}`);
if (!intact) process.exitCode = 1;
