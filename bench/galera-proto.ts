// Galera prototype measurement (issue "weakness 2, single writer"): brings up compose/hardened/db-proto.yml (project
// "galproto"), writes ~50 unique rows/s through the LB over verified TLS, SIGKILLs the node the LB sends writes to,
// keeps writing, starts it again, waits until the cluster is whole, then reads every node directly and checks write
// outage, acknowledged writes lost, divergence between nodes and that a Primary component remained. Each timer
// profile gets a cold bootstrap, N kill runs, a warm restart and (--hog) a minute of writes under a CPU hog that
// counts false suspicions. Ratios are against Galera's default timers measured in the same invocation.
//
// Run: npx tsx bench/galera-proto.ts [--profiles defaults,s1j] [--runs 5] [--hold 15] [--hog] [--lb-connect 250ms] [--certs openssl|faultline] [--build] [--keep]
// Needs the images galproto/{host,galera,galera-lb} (--build makes them FROM faultline's base image).

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { createCa, issueNodeCertificate } from '../src/stack/tls.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const composeFile = join(root, 'compose/hardened/db-proto.yml');
const PROJECT = 'galproto';
const NODES = ['galera1', 'galera2', 'galera3'] as const;
type Node = (typeof NODES)[number];
const NODE_IP: Record<Node, string> = { galera1: '10.223.7.31', galera2: '10.223.7.32', galera3: '10.223.7.33' };
const LB = { host: '127.0.0.1', port: 13306 };
const BASE_IMAGE = 'faultline/base:bookworm';

/**
 * Timer profiles. Galera checks each against the others (gcomm/src/evs_proto.cpp): inactive_check_period <=
 * suspect_timeout/2, keepalive_period <= suspect_timeout/3, install_timeout between keepalive_period and
 * inactive_timeout; so lowering suspect_timeout alone is refused, and all of them move together.
 */
const PROFILES: Record<string, string> = {
  defaults: '',
  s2: 'evs.keepalive_period=PT0.6S;evs.inactive_check_period=PT0.5S;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.install_timeout=PT2S',
  's1.5': 'evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S;evs.suspect_timeout=PT1.5S;evs.inactive_timeout=PT3S;evs.install_timeout=PT1.5S',
  // The view change after a suspicion waited ~1 s more in the logs: the join message is resent every
  // join_retrans_period (default 1 s), so the "j" profiles lower it with the others.
  's1.5j':
    'evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S;evs.suspect_timeout=PT1.5S;evs.inactive_timeout=PT3S;evs.install_timeout=PT1.5S;evs.join_retrans_period=PT0.3S',
  s1j: 'evs.keepalive_period=PT0.3S;evs.inactive_check_period=PT0.3S;evs.suspect_timeout=PT1S;evs.inactive_timeout=PT2S;evs.install_timeout=PT1S;evs.join_retrans_period=PT0.3S',
};

// ---------------------------------------------------------------------------------------------- arguments
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const profiles = option('profiles', 'defaults,s1j').split(',');
for (const p of profiles) if (!(p in PROFILES)) throw new Error(`unknown profile ${p}; known: ${Object.keys(PROFILES).join(', ')}`);
const RUNS = Number(option('runs', '5'));
const HOLD_MS = Number(option('hold', '15')) * 1000;
const RATE = 50;
const WRITE_TIMEOUT_MS = 20_000;
// HAProxy's connect timeout, which also bounds the pause before it retries a refused connection.
const LB_CONNECT = option('lb-connect', '250ms');
// Every write's outcome and every container's log, per run, for looking into a run afterwards (out/ is not committed).
const outDir = join(root, 'out', 'galera-proto', new Date().toISOString().replace(/[:.]/g, '-'));

// ---------------------------------------------------------------------------------------------- state: certificates, passwords
const stateDir = join(process.env.FAULTLINE_HOME ?? join(homedir(), '.faultline'), PROJECT);
// --certs openssl (default): the prototype's own test CA (compose/hardened/galera-certs.sh). --certs faultline: an
// internal name-constrained CA and node certificates from src/stack/tls.ts, as the real profile would make them.
const certs = option('certs', 'openssl');
const tlsDir = join(stateDir, certs === 'faultline' ? 'tls-faultline' : 'tls');
mkdirSync(stateDir, { recursive: true, mode: 0o700 });
if (certs === 'faultline') {
  if (!existsSync(join(tlsDir, 'ca.pem'))) {
    const lbNames = ['galera-lb', '10.223.7.10', 'localhost', '127.0.0.1'];
    const ca = createCa('galproto internal', { dns: [...NODES, 'galera-lb', 'localhost'], ips: [...Object.values(NODE_IP), '10.223.7.10', '127.0.0.1'] });
    mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(tlsDir, 'ca.pem'), ca.certPem);
    for (const node of NODES) {
      const pair = issueNodeCertificate(ca, { name: node, altNames: [NODE_IP[node], ...lbNames] });
      mkdirSync(join(tlsDir, node), { recursive: true });
      writeFileSync(join(tlsDir, node, 'ca.pem'), ca.certPem);
      writeFileSync(join(tlsDir, node, 'node.pem'), pair.certPem);
      // Read inside the container by root, which installs a copy for mysql (0600); the folder above is 0700.
      writeFileSync(join(tlsDir, node, 'node-key.pem'), pair.keyPem, { mode: 0o644 });
    }
  }
} else execFileSync(join(root, 'compose/hardened/galera-certs.sh'), [tlsDir, '10.223.7']);
const secretsPath = join(stateDir, 'secrets.json');
if (!existsSync(secretsPath)) {
  const pw = () => randomBytes(24).toString('base64url');
  writeFileSync(secretsPath, JSON.stringify({ app: pw(), admin: pw() }), { mode: 0o600 });
}
const secrets = JSON.parse(readFileSync(secretsPath, 'utf8')) as { app: string; admin: string };
const ca = readFileSync(join(tlsDir, 'ca.pem'));
// verifyIdentity too: every node's certificate names the LB's addresses, so the name dialled is checked as well.
const ssl = { ca, rejectUnauthorized: true, verifyIdentity: true };

// ---------------------------------------------------------------------------------------------- docker
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const container = (node: Node) => `${PROJECT}_${node}-mariadb_1`;

function compose(args: string[], evs: string): void {
  execFileSync('docker-compose', ['-p', PROJECT, '-f', composeFile, ...args], {
    env: {
      ...process.env,
      GALERA_EVS: evs,
      LB_TIMEOUT_CONNECT: LB_CONNECT,
      GALPROTO_TLS_DIR: tlsDir,
      GALPROTO_DB_APP_PASSWORD: secrets.app,
      GALPROTO_DB_ADMIN_PASSWORD: secrets.admin,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}
function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
/** Log lines (stdout and stderr: mariadbd logs to stderr) since an ISO time. */
function logsSince(node: Node, since: string): string[] {
  const r = execFileSync('bash', ['-c', `docker logs --since '${since}' ${container(node)} 2>&1`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return r.split('\n');
}
/** Sessions HAProxy has open on each data node (its admin socket's `show stat`), e.g. { galera1: 12, galera2: 0, ... }. */
function lbSessions(): Record<string, number> {
  const out = execFileSync('docker', ['exec', `${PROJECT}_lb-haproxy_1`, 'bash', '-c', 'echo "show stat" | socat stdio /run/haproxy/admin.sock'], {
    encoding: 'utf8',
  });
  const res: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const f = line.split(',');
    if (f[0] === 'galera' && f[1]?.startsWith('galera')) res[f[1]] = Number(f[4]);
  }
  return res;
}
const fmtSessions = (x: Record<string, number>) =>
  Object.entries(x)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');

function saveLogs(tag: string, since: string): void {
  mkdirSync(outDir, { recursive: true });
  for (const c of [...NODES.map(container), `${PROJECT}_lb-haproxy_1`])
    writeFileSync(join(outDir, `${tag}-${c}.log`), execFileSync('bash', ['-c', `docker logs -t --since '${since}' ${c} 2>&1`], { maxBuffer: 64 << 20 }));
}

// ---------------------------------------------------------------------------------------------- database helpers
type Status = { cluster: string; size: number; state: number; ready: string };
const admins = new Map<Node, mysql.Connection>();

async function adminConn(node: Node): Promise<mysql.Connection> {
  const have = admins.get(node);
  if (have) return have;
  const c = await mysql.createConnection({ host: NODE_IP[node], port: 3306, user: 'faultline', password: secrets.admin, ssl, connectTimeout: 1000 });
  c.on('error', () => admins.delete(node));
  admins.set(node, c);
  return c;
}
async function status(node: Node): Promise<Status | undefined> {
  try {
    const c = await adminConn(node);
    const [rows] = await c.query<mysql.RowDataPacket[]>({
      sql: "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_cluster_size','wsrep_local_state','wsrep_ready')",
      timeout: 1000,
    });
    const v = Object.fromEntries(rows.map((r) => [r.Variable_name as string, r.Value as string]));
    return { cluster: v.wsrep_cluster_status ?? '?', size: Number(v.wsrep_cluster_size), state: Number(v.wsrep_local_state), ready: v.wsrep_ready ?? '?' };
  } catch {
    admins.get(node)?.destroy();
    admins.delete(node);
    return undefined;
  }
}
async function closeAdmins(): Promise<void> {
  for (const c of admins.values()) c.destroy();
  admins.clear();
}
const whole = (s: Status | undefined) => s !== undefined && s.cluster === 'Primary' && s.size === 3 && s.state === 4 && s.ready === 'ON';

/** Waits until every node is Synced in a Primary component of 3 and the LB answers; returns the time it took. */
async function waitWhole(limitMs: number): Promise<number> {
  const t0 = now();
  while (now() - t0 < limitMs) {
    const all = await Promise.all(NODES.map(status));
    if (all.every(whole) && (await writerViaLb())) return now() - t0;
    await sleep(250);
  }
  throw new Error(`cluster not whole after ${limitMs / 1000} s: ${JSON.stringify(await Promise.all(NODES.map(status)))}`);
}
/** Which node a new connection through the LB lands on (the writer), or undefined when none answers. */
async function writerViaLb(): Promise<Node | undefined> {
  // A few tries: one connection can land in a check's flap or a failover and say nothing about the writer.
  for (let i = 0; i < 5; i++) {
    const n = await writerViaLbOnce();
    if (n) return n;
    await sleep(500);
  }
  return undefined;
}
async function writerViaLbOnce(): Promise<Node | undefined> {
  try {
    const c = await mysql.createConnection({ ...LB, user: 'app', password: secrets.app, ssl, connectTimeout: 2000 });
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>({ sql: 'SELECT @@wsrep_node_name AS n', timeout: 2000 });
      return rows[0]?.n as Node;
    } finally {
      c.destroy();
    }
  } catch {
    return undefined;
  }
}
/** The keys of one run as a node has them; wsrep_sync_wait makes the read wait until the node applied everything. */
async function readKeys(node: Node, prefix: string): Promise<Set<string>> {
  const c = await mysql.createConnection({ host: NODE_IP[node], port: 3306, user: 'faultline', password: secrets.admin, ssl, connectTimeout: 3000 });
  try {
    await c.query('SET SESSION wsrep_sync_wait = 1');
    const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT item_key FROM faultline.items WHERE item_key LIKE ?', [`${prefix}%`]);
    return new Set(rows.map((r) => r.item_key as string));
  } finally {
    c.destroy();
  }
}

// ---------------------------------------------------------------------------------------------- the paced writer
type Outcome = { key: string; intended: number; done: number; result: 'ok' | 'fail' | 'unknown'; code?: string; node?: string };

/**
 * Open-model writer: a write is due every 1000/RATE ms whatever happened to the earlier ones (a stalled write does
 * not delay the next), each on a pooled connection through the LB. ok = the INSERT's OK packet arrived (commit
 * acknowledged); fail = refused before it could commit (no connection, or a server error); unknown = the connection
 * died or timed out after the INSERT was sent (it may have committed).
 */
function startWriter(prefix: string, t0: number) {
  const pool = mysql.createPool({
    ...LB,
    user: 'app',
    password: secrets.app,
    ssl,
    // As the reference app's pool (compose/images/app/server.js): 32 connections, later writes queue (their wait
    // counts in their latency). A pool of 250 made every stall end in a storm of TLS handshakes that starved two
    // cores for seconds (connect timeouts, "last inactive check ... skipping check" in Galera's log).
    connectionLimit: 32,
    waitForConnections: true,
    connectTimeout: 3000,
    enableKeepAlive: true,
  });
  // A pooled connection whose socket is reset while idle must not take the process down.
  pool.pool.on('connection', (c) => c.on('error', () => {}));
  const outcomes: Outcome[] = [];
  const inflight = new Set<Promise<void>>();
  let stop = false;
  let seq = 0;
  const one = async (key: string, intended: number) => {
    let conn: mysql.PoolConnection | undefined;
    try {
      conn = await pool.getConnection();
    } catch (e) {
      outcomes.push({ key, intended, done: now() - t0, result: 'fail', code: (e as { code?: string }).code ?? 'CONNECT' });
      return;
    }
    try {
      const [res] = await conn.query<mysql.ResultSetHeader>({
        sql: 'INSERT INTO faultline.items (item_key, value, server) VALUES (?, ?, @@wsrep_node_name)',
        values: [key, 'galera-proto'],
        timeout: WRITE_TIMEOUT_MS,
      });
      if (res.affectedRows !== 1) throw Object.assign(new Error('no row'), { errno: 0, code: 'NO_ROW' });
      outcomes.push({ key, intended, done: now() - t0, result: 'ok' });
      conn.release();
    } catch (e) {
      const err = e as { code?: string; errno?: number; sqlState?: string };
      // A server error (1047 not ready, 1213 certification conflict, ...) means the statement did not commit.
      const serverSaid = typeof err.errno === 'number' && err.errno > 0 && err.sqlState !== undefined;
      outcomes.push({ key, intended, done: now() - t0, result: serverSaid ? 'fail' : 'unknown', code: err.code ?? String(err.errno) });
      conn.destroy();
    }
  };
  const loop = (async () => {
    const start = now();
    while (!stop) {
      const due = start + seq * (1000 / RATE);
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      const key = `${prefix}${seq++}`;
      const p = one(key, due - t0).finally(() => inflight.delete(p));
      inflight.add(p);
    }
  })();
  return {
    outcomes,
    async stop() {
      stop = true;
      await loop;
      await Promise.all([...inflight]);
      await pool.end().catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------- one kill run
type RunResult = {
  killed: Node;
  newWriter: string;
  writerAfter: string;
  outageMs: number;
  ackGapMs: number;
  evictMs: number;
  writes: number;
  failed: number;
  unknown: number;
  unknownCommitted: number;
  acked: number;
  lost: number;
  divergent: number;
  primaryKept: boolean;
  minSize: number;
  rejoinMs: number;
  rejoinBy: string;
  failsAfterStart: number;
  failbackGapMs: number;
  maxLatencyMs: number;
  maxWriters: number;
  /** The machine's 1-minute load average when the run ended: other work on two cores stretches every figure. */
  load: number;
};

async function killRun(n: number, tag: string): Promise<RunResult> {
  const prefix = `r${Date.now().toString(36)}-`;
  const t0 = now();
  const t0Wall = new Date();
  const writer = startWriter(prefix, t0);
  await sleep(3000);
  const killed = await writerViaLb();
  if (!killed) throw new Error('no writer answers through the LB before the kill');
  const sessionsBefore = lbSessions();
  // Survivors are sampled every 200 ms: the view they are in, whether it is Primary, their size.
  const samples: Array<{ t: number; node: Node; s: Status | undefined }> = [];
  let sampling = true;
  // One writer at a time: how many nodes HAProxy holds sessions on at once, sampled every second.
  let maxWriters = 0;
  let lastLb = 0;
  const sampler = (async () => {
    while (sampling) {
      await Promise.all(NODES.filter((x) => x !== killed).map(async (node) => samples.push({ t: now() - t0, node, s: await status(node) })));
      if (now() - lastLb > 1000) {
        lastLb = now();
        maxWriters = Math.max(maxWriters, Object.values(lbSessions()).filter((v) => v > 0).length);
      }
      await sleep(200);
    }
  })();
  const killAt = now() - t0;
  docker(['kill', '-s', 'KILL', container(killed)]);
  // docker kill returns once the signal is delivered: the time the kill took effect is between the two.
  const killDoneAt = now() - t0;
  await sleep(HOLD_MS);
  const startAt = now() - t0;
  const startedIso = new Date().toISOString();
  docker(['start', container(killed)]);
  // Rejoin: until the restarted node is Synced in a Primary component of 3 again.
  let rejoinMs = NaN;
  for (let i = 0; i < 600; i++) {
    if (whole(await status(killed))) {
      rejoinMs = now() - t0 - startAt;
      break;
    }
    await sleep(250);
  }
  await sleep(3000);
  const writerAfter = (await writerViaLb()) ?? 'none';
  await writer.stop();
  sampling = false;
  await sampler;

  const o = writer.outcomes.sort((a, b) => a.intended - b.intended);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${tag}-writes.json`), JSON.stringify({ killed, t0Wall: t0Wall.toISOString(), killAt, killDoneAt, startAt, outcomes: o }));
  const bad = o.filter((w) => w.result !== 'ok' && w.done >= killAt);
  const firstBad = bad.length ? Math.min(...bad.map((w) => w.intended)) : undefined;
  const oks = o.filter((w) => w.result === 'ok').map((w) => w.done);
  const firstOkAfter = firstBad === undefined ? undefined : Math.min(...oks.filter((d) => d > firstBad));
  // Longest stretch without any commit acknowledged, around the kill: catches writes that hang rather than fail.
  const acks = oks.filter((d) => d >= killAt - 1000 && d <= startAt).sort((a, b) => a - b);
  let ackGapMs = 0;
  for (let i = 1; i < acks.length; i++) ackGapMs = Math.max(ackGapMs, acks[i]! - acks[i - 1]!);
  if (acks.length) ackGapMs = Math.max(ackGapMs, acks[0]! - killAt);
  // Failback: the LB moves writes back to the restarted node once it is Synced and cuts the backup's sessions.
  const afterStart = oks.filter((d) => d >= startAt).sort((a, b) => a - b);
  let failbackGapMs = 0;
  for (let i = 1; i < afterStart.length; i++) failbackGapMs = Math.max(failbackGapMs, afterStart[i]! - afterStart[i - 1]!);
  const killLat = o.filter((w) => w.result === 'ok' && w.intended >= killAt && w.intended < startAt).map((w) => w.done - w.intended);
  const newWriter = (await sqlWriterOf(killAt, o)) ?? 'none';

  const evicted = samples.find((x) => x.t > killAt && x.s?.size === 2);
  const reads = new Map<Node, Set<string>>();
  for (const node of NODES) reads.set(node, await readKeys(node, prefix));
  const ackedKeys = o.filter((w) => w.result === 'ok').map((w) => w.key);
  const lost = Math.max(...NODES.map((node) => ackedKeys.filter((k) => !reads.get(node)!.has(k)).length));
  const union = new Set(NODES.flatMap((node) => [...reads.get(node)!]));
  const divergent = [...union].filter((k) => NODES.some((node) => !reads.get(node)!.has(k))).length;
  const unknownCommitted = o.filter((w) => w.result === 'unknown' && union.has(w.key)).length;
  const survivorSamples = samples.filter((x) => x.t > killAt && x.s);
  const primaryKept = survivorSamples.every((x) => x.s!.cluster === 'Primary');
  // How the restarted node caught up: IST when the snapshot step was bypassed (the position "received" is the
  // one the entrypoint recovered from InnoDB) and the missed write-sets came from a peer's gcache; SST otherwise.
  const rejoinLog = logsSince(killed, startedIso).join('\n');
  const recovered = /recovered position (\S+) from InnoDB/.exec(rejoinLog)?.[1];
  const received = /SST received: (\S+)/.exec(rejoinLog)?.[1];
  const istCount = /Receiving IST: (\d+) writesets/.exec(rejoinLog)?.[1];
  const donor = /Selected \d+\.\d+ \((\w+)\)/.exec(rejoinLog)?.[1] ?? '?';
  const rejoinBy = `${received && received === recovered ? `IST(${istCount ?? 0})` : received ? 'SST' : '?'} from ${donor}`;
  const r: RunResult = {
    killed,
    newWriter,
    writerAfter,
    outageMs: firstBad !== undefined && Number.isFinite(firstOkAfter) ? firstOkAfter! - firstBad : 0,
    ackGapMs,
    evictMs: evicted ? evicted.t - killAt : NaN,
    writes: o.length,
    failed: o.filter((w) => w.result === 'fail').length,
    unknown: o.filter((w) => w.result === 'unknown').length,
    unknownCommitted,
    acked: ackedKeys.length,
    lost,
    divergent,
    primaryKept,
    minSize: Math.min(...survivorSamples.map((x) => x.s!.size)),
    rejoinMs,
    rejoinBy,
    failsAfterStart: o.filter((w) => w.result !== 'ok' && w.intended >= startAt).length,
    failbackGapMs,
    maxLatencyMs: Math.max(0, ...killLat),
    maxWriters,
    load: loadavg()[0]!,
  };
  console.error(
    `  run ${n}: killed ${killed} (docker kill took ${s(killDoneAt - killAt)}; LB sessions ${fmtSessions(sessionsBefore)}) → ${newWriter}; outage ${s(r.outageMs)}, ack gap ${s(r.ackGapMs)}, evicted after ${s(r.evictMs)}; ` +
      `${r.failed} failed, ${r.unknown} unknown (${unknownCommitted} committed), lost ${lost}, divergent ${divergent}; rejoin ${s(rejoinMs)} by ${rejoinBy}; ` +
      `writer after ${writerAfter}, failback blip ${r.failsAfterStart} writes (gap ${s(failbackGapMs)}), slowest write while down ${s(r.maxLatencyMs)}, nodes with sessions at once ≤ ${maxWriters}; codes before/after start ${codes(o.filter((w) => w.intended < startAt))} / ${codes(o.filter((w) => w.intended >= startAt))}`,
  );
  return r;
}
const codes = (ws: Outcome[]) => {
  const n = new Map<string, number>();
  for (const w of ws) if (w.code) n.set(`${w.result}:${w.code}`, (n.get(`${w.result}:${w.code}`) ?? 0) + 1);
  return [...n].map(([k, v]) => `${k}×${v}`).join(',') || '-';
};
/** The node that acknowledged the first write after the kill (its server column, read back from the cluster). */
async function sqlWriterOf(killAt: number, o: Outcome[]): Promise<string | undefined> {
  const first = o.find((w) => w.result === 'ok' && w.intended > killAt);
  if (!first) return undefined;
  for (const node of NODES) {
    try {
      const c = await mysql.createConnection({ host: NODE_IP[node], port: 3306, user: 'faultline', password: secrets.admin, ssl, connectTimeout: 2000 });
      try {
        const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT server FROM faultline.items WHERE item_key = ?', [first.key]);
        return rows[0]?.server as string | undefined;
      } finally {
        c.destroy();
      }
    } catch {
      // that node is the one down; ask the next
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- CPU hog: false suspicions
async function hogRun(seconds: number) {
  const prefix = `h${Date.now().toString(36)}-`;
  const t0 = now();
  const since = new Date().toISOString();
  const writer = startWriter(prefix, t0);
  await sleep(2000);
  const hog = spawn(
    'docker',
    ['run', '--rm', '--name', `${PROJECT}-hog`, '--entrypoint', 'stress-ng', 'galproto/host', '--cpu', '2', '--timeout', `${seconds}s`],
    {
      stdio: 'ignore',
    },
  );
  const hogStart = now() - t0;
  await new Promise((r) => hog.on('exit', r));
  const hogEnd = now() - t0;
  await sleep(2000);
  await writer.stop();
  const o = writer.outcomes;
  const lat = o
    .filter((w) => w.result === 'ok' && w.intended >= hogStart && w.intended <= hogEnd)
    .map((w) => w.done - w.intended)
    .sort((a, b) => a - b);
  const acks = o
    .filter((w) => w.result === 'ok')
    .map((w) => w.done)
    .sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < acks.length; i++) gap = Math.max(gap, acks[i]! - acks[i - 1]!);
  let suspicions = 0;
  let views = 0;
  for (const node of NODES) {
    const lines = logsSince(node, since);
    suspicions += lines.filter((l) => /suspecting node|declaring inactive|inactive peer/i.test(l)).length;
    views += lines.filter((l) => /New cluster view: global state/.test(l)).length;
  }
  const res = {
    writes: o.length,
    failed: o.filter((w) => w.result !== 'ok').length,
    p99: lat[Math.floor(lat.length * 0.99)] ?? NaN,
    max: lat[lat.length - 1] ?? NaN,
    gap,
    suspicions,
    views,
  };
  console.error(
    `  hog ${seconds}s: ${res.writes} writes, ${res.failed} not ok, latency p99 ${s(res.p99)} max ${s(res.max)}, longest ack gap ${s(gap)}, suspicion lines ${suspicions}, view changes ${views}`,
  );
  return res;
}

// ---------------------------------------------------------------------------------------------- output helpers
const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '-');
const median = (xs: number[]) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

// ---------------------------------------------------------------------------------------------- main
if (flag('build')) {
  for (const [name, ctx] of [
    ['host', 'host'],
    ['galera', 'galera'],
    ['galera-lb', 'galera-lb'],
  ] as const)
    execFileSync('docker', ['build', '-q', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', `galproto/${name}`, join(root, 'compose/images', ctx)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
}

type ProfileResult = { name: string; evs: string; coldMs: number; warmMs: number; runs: RunResult[]; hog?: Awaited<ReturnType<typeof hogRun>> };
const results: ProfileResult[] = [];
for (const name of profiles) {
  const evs = PROFILES[name]!;
  console.error(`profile ${name}: ${evs || "Galera's defaults"}`);
  compose(['down', '-v', '--timeout', '5'], evs);
  await closeAdmins();
  // Cold bootstrap: empty volumes, node 1 bootstraps, 2 and 3 join by SST one after another.
  const tCold = now();
  compose(['up', '-d'], evs);
  const coldMs = now() - tCold + (await waitWhole(180_000));
  console.error(`  cold bootstrap ${s(coldMs)}`);
  const runs: RunResult[] = [];
  for (let i = 1; i <= RUNS; i++) {
    await waitWhole(180_000);
    const tag = `${name}-run${i}`;
    const since = new Date().toISOString();
    runs.push(await killRun(i, tag));
    saveLogs(tag, since);
  }
  const hog = flag('hog') ? await hogRun(60) : undefined;
  // Warm restart: a clean stop (node 3, 2, then 1: the last one keeps safe_to_bootstrap) and up again on the same data.
  await closeAdmins();
  compose(['stop', '--timeout', '30'], evs);
  const tWarm = now();
  compose(['up', '-d'], evs);
  const warmMs = now() - tWarm + (await waitWhole(180_000));
  console.error(`  warm restart ${s(warmMs)}`);
  results.push({ name, evs, coldMs, warmMs, runs, ...(hog ? { hog } : {}) });
}
await closeAdmins();
if (!flag('keep')) compose(['down', '-v', '--timeout', '5'], '');

// ---------------------------------------------------------------------------------------------- report
console.log(`\nGalera prototype: SIGKILL of the writer under ${RATE} writes/s, ${HOLD_MS / 1000} s down, ${RUNS} runs per profile (2 cores)\n`);
const head = [
  'profile',
  'run',
  'killed',
  '→ writer',
  'outage',
  'ack gap',
  'evicted',
  'failed',
  'unknown',
  'acked',
  'lost',
  'diverg.',
  'Primary',
  'rejoin',
  'by',
  'after',
];
console.log(head.join('\t'));
for (const p of results)
  p.runs.forEach((r, i) =>
    console.log(
      [
        p.name,
        i + 1,
        r.killed,
        r.newWriter,
        s(r.outageMs),
        s(r.ackGapMs),
        s(r.evictMs),
        r.failed,
        `${r.unknown}(${r.unknownCommitted})`,
        r.acked,
        r.lost,
        r.divergent,
        r.primaryKept ? `yes(${r.minSize})` : 'NO',
        s(r.rejoinMs),
        r.rejoinBy,
        r.writerAfter,
        r.failsAfterStart,
        s(r.failbackGapMs),
        s(r.maxLatencyMs),
        r.maxWriters,
        r.load.toFixed(1),
      ].join('\t'),
    ),
  );
console.log(
  '\nmedians\tprofile\toutage\tack gap\tevicted\trejoin\tcold boot\twarm restart\tlost (sum)\tdivergent (sum)\tPrimary kept\thog: suspicions/views/p99',
);
const ref = results.find((p) => p.name === 'defaults');
for (const p of results) {
  const out = median(p.runs.map((r) => r.outageMs));
  const gap = median(p.runs.map((r) => r.ackGapMs));
  const ratio = ref && p !== ref ? ` (${(gap / median(ref.runs.map((r) => r.ackGapMs))).toFixed(2)}× defaults)` : '';
  console.log(
    [
      '',
      p.name,
      s(out),
      s(gap) + ratio,
      s(median(p.runs.map((r) => r.evictMs))),
      s(median(p.runs.map((r) => r.rejoinMs))),
      s(p.coldMs),
      s(p.warmMs),
      p.runs.reduce((a, r) => a + r.lost, 0),
      p.runs.reduce((a, r) => a + r.divergent, 0),
      p.runs.every((r) => r.primaryKept) ? 'yes' : 'NO',
      p.hog ? `${p.hog.suspicions}/${p.hog.views}/${s(p.hog.p99)}` : '-',
    ].join('\t'),
  );
}
for (const p of results) {
  const gap = median(p.runs.map((r) => r.ackGapMs));
  const lost = p.runs.reduce((a, r) => a + r.lost, 0);
  console.log(
    `goal ${p.name}: write outage < 2 s (${gap < 2000 ? 'met' : 'MISSED'}: median ack gap ${s(gap)}), 0 lost acknowledged writes (${lost === 0 ? 'met' : 'MISSED'}: ${lost})`,
  );
}
