// Cross-check of faultline's TLS and exposure probes against testssl.sh and nmap (both from Debian) on the
// same stack: the healthy stack, then each certificate fault and a firewall hole from the fault catalogue.
// Prints, per scenario, where the tools agree and where they differ, and each tool's time as a ratio to
// faultline's, measured in the same run. nmap scans from the probe's own vantage points: a throwaway
// container on the internal ("insider") and edge ("internet") network, entered with nsenter, so both tools
// see exactly what a stranger on that network sees; targets are the stack's servers (by label) and
// 127.0.0.1 only, on the probe's bounded port list.
//
// The `ciphers` scenario, and any https URL given, compare the accepted cipher suites per version and the weak-suite
// classes with testssl.sh's (-E -s -f), in a table with both tools' times.
//
// Run (the stack must be up):  FAULTLINE_PROJECT=flprobes ... node --import=tsx bench/probes.ts [scenario | https-url ...]
// Scenarios: healthy cert-expired cert-wrong-host cert-self-signed tls-legacy hsts-removed firewall-open-port ciphers
// (default: all). A fault is always reverted, also on Ctrl-C or SIGTERM; `faultline revert --all` is the backstop.
// A URL (e.g. the shop fixture's https://127.0.0.1:9443) is loopback only, like every faultline target.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachStack } from '../src/stack/attach.js';
import { LABEL } from '../src/stack/docker-client.js';
import { createFaultContext, defaultRegistry, injectFault, type ActiveFault } from '../src/faults/index.js';
import {
  getProbe,
  runProbe,
  DEFAULT_PORTS,
  VANTAGES,
  type ExposureCheck,
  type Finding,
  type Observation,
  type TlsFacts,
  type TlsValue,
} from '../src/probes/index.js';
import { stackServers } from '../src/probes/targets.js';
import { observeTls, type TlsParams } from '../src/probes/tls.js';
import { tlsTarget } from '../src/probes/tls-target.js';
import { WEAK_CLASSES, forwardSecret, TLS_VERSIONS, type TlsVersion, type WeakClass } from '../src/probes/tls-suites.js';
import { isLoopbackHost } from '../src/load/index.js';

// testssl.sh forks openssl hundreds of times: minutes on a busy 2-core machine, seconds on an idle one.
const TESTSSL_TIMEOUT_MS = 600_000;
const NMAP_TIMEOUT_MS = 120_000;

function have(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

if (!have('testssl') || !have('nmap')) {
  console.log('installing testssl.sh and nmap from Debian …');
  execFileSync('apt-get', ['install', '-y', 'testssl.sh', 'nmap'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

const stack = await attachStack();
const ctx = { stack, docker: stack.docker };
const faults = createFaultContext(stack, { holdMs: 900_000 });
const registry = defaultRegistry();
const interrupt = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => interrupt.abort(new Error(`interrupted by ${sig}`)));
/** The interrupt or `ms`, whichever comes first (a timer of our own: AbortSignal.timeout inside any() can be collected, nodejs/node#57736). */
function deadline(ms: number): AbortSignal {
  const c = new AbortController();
  setTimeout(() => c.abort(new Error(`no result within ${ms} ms`)), ms).unref();
  interrupt.signal.addEventListener('abort', () => c.abort(interrupt.signal.reason), { once: true });
  return c.signal;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

/** Runs a command without blocking the event loop (so a Ctrl-C still reverts), bounded in time. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: deadline(timeoutMs), killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', (err) => (stderr += `${err.message}\n`));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------------------
// The two sides of each comparison.

type TestsslItem = { id: string; severity: string; finding: string };
type TestsslSection = '-p' | '-S' | '-h' | '-E' | '-s' | '-f';

/** testssl.sh on the stack's endpoint (its CA added), or on another loopback host:port. */
async function testssl(
  sections: TestsslSection[],
  at = { host: 'localhost', port: stack.options.httpsPort, ca: stack.tls.caPath as string | undefined },
): Promise<{ items: TestsslItem[]; ms: number; error: string | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-testssl-'));
  const jsonFile = join(dir, 'out.json');
  try {
    const args = [
      '--openssl',
      '/usr/bin/openssl',
      ...sections,
      ...(at.ca ? ['--add-ca', at.ca] : []),
      '--ip',
      '127.0.0.1',
      '--connect-timeout',
      '5',
      '--openssl-timeout',
      '5',
    ];
    args.push('--jsonfile', jsonFile, '--warnings', 'off', '--quiet', '--color', '0', `${at.host}:${at.port}`);
    const [res, ms] = await timed(() => run('testssl', args, TESTSSL_TIMEOUT_MS));
    try {
      return { items: JSON.parse(readFileSync(jsonFile, 'utf8')) as TestsslItem[], ms, error: null };
    } catch (err) {
      return { items: [], ms, error: `testssl.sh produced no JSON (exit ${res.code}): ${(err as Error).message}; ${res.stderr.trim().slice(0, 300)}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** nmap -sT from inside a throwaway container's network namespace on the given network; returns "address:port" open. */
async function nmapFrom(network: string, addresses: string[], ports: readonly number[]): Promise<{ open: Set<string>; ms: number }> {
  if (addresses.length === 0) return { open: new Set(), ms: 0 };
  const id = await stack.docker.runDetached({
    image: await stack.helperImage(),
    // Bounded even if this process dies: the helper exits by itself.
    entrypoint: ['sleep'],
    cmd: ['300'],
    networkMode: network,
    labels: { [LABEL.stack]: stack.project, [LABEL.role]: 'vantage', [LABEL.component]: 'vantage-bench-nmap' },
  });
  try {
    const pid = (await stack.docker.inspect(id)).pid;
    const args = [
      '-t',
      String(pid),
      '-n',
      'nmap',
      '-Pn',
      '-n',
      '-sT',
      '-p',
      ports.join(','),
      '--max-retries',
      '1',
      '--host-timeout',
      '60s',
      '--max-parallelism',
      '16',
      '-oG',
      '-',
      ...addresses,
    ];
    const [res, ms] = await timed(() => run('nsenter', args, NMAP_TIMEOUT_MS));
    if (res.code !== 0) throw new Error(`nmap failed (exit ${res.code}): ${res.stderr.trim().slice(0, 300)}`);
    return { open: parseGrepable(res.stdout), ms };
  } finally {
    await stack.docker.remove(id).catch(() => undefined);
  }
}

function parseGrepable(out: string): Set<string> {
  const open = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /^Host: (\S+).*Ports: (.*)$/.exec(line);
    if (!m) continue;
    for (const p of m[2]!.split(',')) {
      const pm = /(\d+)\/open\//.exec(p.trim());
      if (pm) open.add(`${m[1]}:${pm[1]}`);
    }
  }
  return open;
}

// ---------------------------------------------------------------------------------------------------------
// Comparisons: each one a line "what  faultline=…  other=…", sorted into agree/differ per scenario.

interface Report {
  scenario: string;
  /** The cipher comparison's rows: class, faultline, testssl.sh, agree? */
  table?: string[];
  agree: string[];
  differ: string[];
  notes: string[];
  timings: string[];
}

function compare(r: Report, what: string, ours: string, theirs: string, note?: string): void {
  (ours === theirs ? r.agree : r.differ).push(`${what.padEnd(30)} faultline=${ours}  other=${theirs}${note && ours !== theirs ? `  (${note})` : ''}`);
}

const has = (o: Observation, id: string) => o.findings.some((f) => f.id === id);

/** Compares what both sides looked at; testssl items missing from its sections are skipped. */
function compareTls(r: Report, o: Observation<TlsValue>, items: TestsslItem[]): void {
  const facts = o.details.public as TlsFacts;
  const item = (id: string) => items.find((i) => i.id === id);
  if (item('TLS1')) {
    for (const [ours, theirs] of [
      ['TLSv1', 'TLS1'],
      ['TLSv1.1', 'TLS1_1'],
      ['TLSv1.2', 'TLS1_2'],
      ['TLSv1.3', 'TLS1_3'],
    ] as const) {
      const f = item(theirs)?.finding ?? '?';
      compare(r, `protocol ${ours}`, o.value.protocols[ours] ?? '?', /not offered/i.test(f) ? 'refused' : /offered/i.test(f) ? 'accepted' : f);
    }
    compare(
      r,
      'finding legacy-protocol',
      String(has(o, 'legacy-protocol')),
      String(/^offered/i.test(item('TLS1')?.finding ?? '') || /^offered/i.test(item('TLS1_1')?.finding ?? '')),
    );
  }
  if (item('cert_chain_of_trust')) {
    // Node's `authorized` also fails on a name mismatch; testssl.sh's chain of trust is the chain alone.
    const chainOk = facts.handshake.authorized || facts.handshake.authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID';
    compare(r, 'chain trusted (stack CA)', String(chainOk), String(/^passed/i.test(item('cert_chain_of_trust')!.finding)));
    compare(
      r,
      'finding cert-untrusted',
      String(has(o, 'cert-untrusted')),
      String(/self signed|NOT ok|failed/i.test(item('cert_chain_of_trust')!.finding) && !/expired/i.test(item('cert_chain_of_trust')!.finding)),
    );
    // testssl.sh checks the name the scan was started with (localhost); faultline checks localhost and the domain.
    compare(r, 'finding hostname-mismatch', String(has(o, 'hostname-mismatch')), String(!/^Ok via/i.test(item('cert_trust')?.finding ?? 'Ok via')));
    compare(r, 'finding cert-expired', String(has(o, 'cert-expired')), String(/expired/i.test(item('cert_expirationStatus')?.finding ?? '')));
    compare(
      r,
      'key',
      `${facts.certificate?.keyType} ${facts.certificate?.keyBits}`,
      (item('cert_keySize')?.finding ?? '?').replace(/\s+bits.*$/, '').toLowerCase(),
    );
    // Same algorithm, different spelling ("sha256WithRSAEncryption" vs "SHA256 with RSA").
    const sig = (x: string) =>
      x
        .toLowerCase()
        .replace(/encryption$/, '')
        .replace(/[^a-z0-9]/g, '');
    compare(r, 'signature algorithm', sig(facts.certificate?.signatureAlgorithm ?? '?'), sig(item('cert_signatureAlgorithm')?.finding ?? '?'));
  }
  if (item('HTTP_status_code')) {
    // testssl.sh 3.0 reports HSTS_time when the header is there, HSTS ("not offered") when it is not.
    const hsts = item('HSTS_time') ?? item('HSTS');
    compare(r, 'HSTS present', String(facts.hsts !== null), String(hsts !== undefined && !/not offered/i.test(hsts.finding)));
    compare(r, 'finding no-hsts', String(has(o, 'no-hsts')), String(hsts === undefined || /not offered/i.test(hsts.finding)));
    for (const id of ['banner_server', 'X-Served-By']) {
      const b = item(id);
      if (b && b.finding !== '--' && !/^No /i.test(b.finding))
        r.notes.push(`testssl.sh: ${id} discloses "${b.finding}" (faultline does not report server banners)`);
    }
  }
  compareSeverities(r, o, items);
}

const SEVERE = new Set(['high', 'critical', 'HIGH', 'CRITICAL']);
const TESTSSL_RANK = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'WARN', 'INFO', 'OK'];

/**
 * Problems matched by meaning, not counted (testssl.sh reports one problem under several ids): for each
 * problem either tool reports, is it severe (high/critical) on both sides? A problem only one tool looks at
 * is a note, not a difference.
 */
function compareSeverities(r: Report, o: Observation, items: TestsslItem[]): void {
  const theirs = new Map<string, TestsslItem>();
  for (const i of items) {
    const id = problemOf(i);
    if (id === null) continue;
    const prev = theirs.get(id);
    if (!prev || TESTSSL_RANK.indexOf(i.severity) < TESTSSL_RANK.indexOf(prev.severity)) theirs.set(id, i);
  }
  const ours = new Map<string, Finding>();
  for (const f of o.findings.filter((x) => x.scope === 'public')) if (!ours.has(f.id) || SEVERE.has(f.severity)) ours.set(f.id, f);
  const both: string[] = [];
  for (const id of new Set([...theirs.keys(), ...ours.keys()])) {
    const t = theirs.get(id);
    const f = ours.get(id);
    if (t && f) {
      if (SEVERE.has(t.severity) === SEVERE.has(f.severity)) both.push(`${id} (${f.severity}/${t.severity})`);
      else compare(r, `severity of ${id}`, f.severity, `${t.severity} (${t.id}: ${t.finding})`, 'same problem, different severity policy');
    } else if (t && SEVERE.has(t.severity)) compare(r, `testssl.sh ${t.id}`, `no ${id}`, `${t.severity} ${t.finding}`);
    else if (f && SEVERE.has(f.severity) && coveredBy(id, items)) compare(r, `faultline ${id}`, `${f.severity} ${f.message}`, 'not reported');
  }
  if (both.length) r.agree.push(`problems both report (faultline/testssl.sh severity): ${both.join(', ')}`);
  for (const i of items.filter((x) => SEVERE.has(x.severity) && problemOf(x) === null)) {
    r.notes.push(
      `testssl.sh ${i.severity}: ${i.id}: ${i.finding}${i.id === 'cert_revocation' ? ' (not checked by faultline: a private CA has no CRL/OCSP)' : ''}`,
    );
  }
}

/** The faultline finding id for a testssl.sh item that reports a problem; null when it reports none (or one faultline does not check). */
function problemOf(i: TestsslItem): string | null {
  const bad = !/^(OK|INFO)$/.test(i.severity);
  switch (i.id) {
    case 'cert_chain_of_trust':
      return /^passed/i.test(i.finding) ? null : /expired/i.test(i.finding) ? 'cert-expired' : 'cert-untrusted';
    case 'cert_expirationStatus':
      return /expired/i.test(i.finding) ? 'cert-expired' : bad ? 'cert-expiring' : null;
    case 'cert_notAfter':
      return !bad ? null : Date.parse(`${i.finding.replace(' ', 'T')}Z`) < Date.now() ? 'cert-expired' : 'cert-expiring';
    case 'cert_trust':
      return /^Ok via/i.test(i.finding) ? null : 'hostname-mismatch';
    case 'TLS1':
    case 'TLS1_1':
      return /^offered/i.test(i.finding) ? 'legacy-protocol' : null;
    case 'HSTS':
      return /not offered/i.test(i.finding) ? 'no-hsts' : null;
    case 'cert_keySize':
      return bad ? 'weak-key' : null;
    case 'cert_signatureAlgorithm':
      return bad ? 'weak-signature' : null;
    default:
      return null;
  }
}

/** Whether the testssl.sh sections that ran look at what the finding is about. */
function coveredBy(findingId: string, items: TestsslItem[]): boolean {
  const marker: Record<string, string> = {
    'legacy-protocol': 'TLS1',
    'no-tls13': 'TLS1',
    'no-modern-protocol': 'TLS1',
    'no-hsts': 'HTTP_status_code',
    'hsts-short': 'HTTP_status_code',
  };
  return items.some((i) => i.id === (marker[findingId] ?? 'cert_chain_of_trust'));
}

async function compareExposure(r: Report, o: Observation): Promise<void> {
  const checks = (o.details.checks as ExposureCheck[] | undefined) ?? [];
  const servers = await stackServers(stack);
  let nmapMs = 0;
  for (const v of VANTAGES) {
    const mine = checks.filter((c) => c.vantage === v.name);
    const addresses = [...new Set(mine.map((c) => c.address))];
    const ports = [...new Set(mine.map((c) => c.port))].sort((a, b) => a - b);
    const { open, ms } = await nmapFrom(v.network === 'edge' ? stack.edgeNetwork : stack.internalNetwork, addresses, ports);
    nmapMs += ms;
    let same = 0;
    for (const c of mine) {
      const theirs = open.has(`${c.address}:${c.port}`);
      if (theirs === c.open) same += 1;
      else compare(r, `${v.name} → ${c.server}:${c.port}`, c.open ? 'open' : 'closed', theirs ? 'open' : 'closed');
    }
    r.agree.push(`${v.name.padEnd(9)} ${same}/${mine.length} ports agree; nmap open: ${[...open].sort().join(', ') || 'none'}`);
    const holes = mine.filter((c) => !c.allowed && open.has(`${c.address}:${c.port}`)).map((c) => `${c.server}:${c.port}`);
    compare(
      r,
      `${v.name} holes`,
      mine
        .filter((c) => c.open && !c.allowed)
        .map((c) => `${c.server}:${c.port}`)
        .join(',') || 'none',
      holes.join(',') || 'none',
    );
  }
  // The published side, from the Docker host: only the LB's ports, only on loopback.
  const published = servers.flatMap((s) => s.published.map((p) => p.hostPort));
  const loop = await run(
    'nmap',
    [
      '-Pn',
      '-n',
      '-sT',
      '-p',
      [...new Set([...published, ...DEFAULT_PORTS])].join(','),
      '--max-retries',
      '1',
      '--host-timeout',
      '30s',
      '-oG',
      '-',
      '127.0.0.1',
    ],
    NMAP_TIMEOUT_MS,
  );
  const loopOpen = [...parseGrepable(loop.stdout)].map((x) => Number(x.split(':')[1]));
  for (const p of published) compare(r, `published 127.0.0.1:${p}`, 'open', loopOpen.includes(p) ? 'open' : 'closed');
  r.timings.push(`faultline exposure ${secs(o.durationMs)}   nmap (both vantages) ${secs(nmapMs)}  (×${(nmapMs / Math.max(1, o.durationMs)).toFixed(2)})`);
}

// ---------------------------------------------------------------------------------------------------------
// Cipher suites: faultline's enumeration against testssl.sh's, per version (by code point) and per weak class.

const TESTSSL_VERSION: Record<string, TlsVersion> = { tls1: 'TLSv1', tls1_1: 'TLSv1.1', tls1_2: 'TLSv1.2', tls1_3: 'TLSv1.3' };
/** testssl.sh's cipher categories (run_cipherlists) and the faultline classes that mean the same. */
const CLASS_ROWS: [string, string, WeakClass[]][] = [
  ['NULL', 'cipherlist_NULL', ['null']],
  ['anonymous (aNULL)', 'cipherlist_aNULL', ['anon']],
  ['EXPORT', 'cipherlist_EXPORT', ['export']],
  ['LOW: DES, RC2, RC4', 'cipherlist_LOW', ['rc4', 'des']],
  ['3DES / IDEA', 'cipherlist_3DES_IDEA', ['3des']],
  ['obsolete CBC', 'cipherlist_AVERAGE', ['cbc']],
];
const CIPHER_PARAMS: TlsParams = { internal: false, failOnInternal: false, minGrade: 'A', failOn: 'medium', minDays: 14, ciphers: true };

async function compareCiphers(r: Report, url: string): Promise<void> {
  const u = new URL(url);
  // Trust does not change which suites are accepted, so neither side verifies the chain here.
  const o = await observeTls(tlsTarget(url, { insecure: true }), CIPHER_PARAMS, deadline(120_000));
  const scan = (o.details.public as TlsFacts).ciphers;
  const ts = await testssl(['-E', '-s', '-f'], { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443), ca: undefined });
  if (!scan || ts.error) return void r.differ.push(ts.error ?? 'faultline did not enumerate (no handshake)');
  const rows: string[][] = [];
  const row = (what: string, ours: string, theirs: string, agree: boolean, detail?: string) => {
    rows.push([what, ours, theirs, agree ? 'yes' : 'NO']);
    // The table shows the agreements; a difference also goes to the report's list, with what exactly differs.
    if (!agree) r.differ.push(`${what}: faultline ${ours}, testssl.sh ${theirs}${detail ? ` (${detail})` : ''}`);
  };
  const theirs = new Map<TlsVersion, { code: number; name: string; iana: string }[]>(TLS_VERSIONS.map((v) => [v, []]));
  for (const i of ts.items) {
    const m = /^cipher-(tls1(?:_[123])?)_x([0-9a-f]+)$/i.exec(i.id);
    const cols = i.finding.trim().split(/\s+/);
    if (m && TESTSSL_VERSION[m[1]!]) theirs.get(TESTSSL_VERSION[m[1]!]!)!.push({ code: parseInt(m[2]!, 16), name: cols[3]!, iana: cols.at(-1)! });
  }
  for (const v of TLS_VERSIONS) {
    const mine = scan.accepted[v];
    const other = theirs.get(v)!;
    const onlyUs = mine.filter((x) => !other.some((y) => y.code === x.code)).map((x) => x.name);
    const onlyThem = other.filter((y) => !mine.some((x) => x.code === y.code)).map((y) => y.name);
    const detail = [onlyUs.length ? `only faultline: ${onlyUs.join(' ')}` : '', onlyThem.length ? `only testssl.sh: ${onlyThem.join(' ')}` : '']
      .filter(Boolean)
      .join('; ');
    row(`${v} suites`, `${mine.length}`, `${other.length}`, !detail, detail);
  }
  for (const [label, id, classes] of CLASS_ROWS) {
    const found = o.findings.filter((f) => classes.some((c) => WEAK_CLASSES[c].id === f.id));
    const ours = found.length ? `offered, ${found.map((f) => f.severity).join('/')}` : 'not offered';
    const t = ts.items.find((i) => i.id === id);
    const offered = /^offered/i.test(t?.finding ?? '');
    row(
      label,
      ours,
      t ? `${t.finding}, ${t.severity}` : 'not tested',
      offered === found.length > 0 && (!offered || found.some((f) => f.severity === t?.severity.toLowerCase())),
    );
  }
  // Forward secrecy: the static-key-exchange suites each tool saw, and whether any suite has it (testssl.sh's PFS).
  const fs = o.findings.find((f) => f.id === 'no-forward-secrecy-suite');
  const staticOurs = TLS_VERSIONS.flatMap((v) => scan.accepted[v]).filter((x) => !forwardSecret(x)).length;
  const staticTheirs = [...theirs.values()].flat().filter((y) => !forwardSecret({ name: y.name, standardName: y.iana })).length;
  const pfs = ts.items.find((i) => i.id === 'PFS');
  row(
    'no forward secrecy',
    `${staticOurs} suite(s)${fs ? `, ${fs.severity}` : ''}`,
    `${staticTheirs} suite(s); PFS ${pfs?.finding ?? '?'}, ${pfs?.severity ?? '?'}`,
    staticOurs === staticTheirs && (fs?.severity === 'medium') === (pfs !== undefined && !/^offered/i.test(pfs.finding)),
  );
  r.agree.push(`${rows.filter((x) => x[3] === 'yes').length} of ${rows.length} rows of the table agree`);
  rows.push(['time', `${secs(scan.ms)} (whole probe ${secs(o.durationMs)})`, secs(ts.ms), `×${(ts.ms / Math.max(1, scan.ms)).toFixed(0)}`]);
  const widths = [0, 1, 2, 3].map((c) => Math.max(...[['class', 'faultline', 'testssl.sh', 'agree?'], ...rows].map((x) => x[c]!.length)));
  r.table = [['class', 'faultline', 'testssl.sh', 'agree?'], ...rows].map((x) =>
    x
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  r.timings.push(`faultline enumeration ${secs(scan.ms)} (${scan.handshakes} handshakes, ${scan.hellos} bare hellos)   testssl.sh -E -s -f ${secs(ts.ms)}`);
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios.

interface Scenario {
  name: string;
  fault?: { name: string; input?: { target?: string; params?: Record<string, unknown> } };
  testssl?: TestsslSection[];
  exposure?: boolean;
  /** Compare accepted cipher suites at this URL (the stack's endpoint when empty). */
  ciphers?: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'healthy', testssl: ['-p', '-S', '-h'], exposure: true },
  { name: 'cert-expired', fault: { name: 'cert-expired' }, testssl: ['-S'] },
  { name: 'cert-wrong-host', fault: { name: 'cert-wrong-host' }, testssl: ['-S'] },
  { name: 'cert-self-signed', fault: { name: 'cert-self-signed' }, testssl: ['-S'] },
  { name: 'tls-legacy', fault: { name: 'tls-legacy' }, testssl: ['-p'] },
  { name: 'hsts-removed', fault: { name: 'hsts-removed' }, testssl: ['-h'] },
  { name: 'firewall-open-port', fault: { name: 'firewall-open-port', input: { target: 'server=db-primary', params: { port: 3306 } } }, exposure: true },
  { name: 'ciphers', ciphers: '' },
];

async function runScenario(s: Scenario): Promise<Report> {
  const r: Report = { scenario: s.name, agree: [], differ: [], notes: [], timings: [] };
  let active: ActiveFault | undefined;
  if (s.fault) active = await injectFault(faults, registry.configure(s.fault.name, s.fault.input ?? {}), deadline(90_000), { holdMs: 900_000 });
  try {
    if (s.testssl) {
      const tls = (await runProbe(getProbe('tls'), ctx, { internal: false }, deadline(60_000))) as Observation<TlsValue>;
      const ts = await testssl(s.testssl);
      if (ts.error) r.differ.push(ts.error);
      else compareTls(r, tls, ts.items);
      r.timings.push(
        `faultline tls ${secs(tls.durationMs)}   testssl.sh ${s.testssl.join(' ')} ${secs(ts.ms)}  (×${(ts.ms / Math.max(1, tls.durationMs)).toFixed(0)})`,
      );
    }
    if (s.exposure) await compareExposure(r, await runProbe(getProbe('exposure'), ctx, {}, deadline(120_000)));
    if (s.ciphers !== undefined) await compareCiphers(r, s.ciphers || stack.httpsUrl);
  } finally {
    // A fresh signal: an interrupt must never cancel the revert.
    await active?.revert();
  }
  return r;
}

const args = process.argv.slice(2);
const urls = args.filter((a) => /^https:\/\//.test(a));
const wanted = args.filter((a) => !urls.includes(a));
const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
const remote = urls.filter((u) => !isLoopbackHost(new URL(u).hostname));
if (unknown.length || remote.length) {
  if (unknown.length) console.error(`unknown scenario(s): ${unknown.join(', ')} (one of ${SCENARIOS.map((s) => s.name).join(', ')}, or an https URL)`);
  if (remote.length) console.error(`not a loopback address: ${remote.join(', ')} (the bench scans only 127.0.0.1, ::1 or localhost)`);
  process.exitCode = 2;
}
const chosen = [
  ...SCENARIOS.filter((x) => (wanted.length === 0 && urls.length === 0) || wanted.includes(x.name)),
  ...urls.map((u) => ({ name: `ciphers ${u}`, ciphers: u })),
];
const reports: Report[] = [];
for (const s of process.exitCode === 2 ? [] : chosen) {
  if (interrupt.signal.aborted) break;
  process.stderr.write(`… ${s.name}\n`);
  try {
    reports.push(await runScenario(s));
  } catch (err) {
    reports.push({ scenario: s.name, agree: [], differ: [`scenario failed: ${(err as Error).message}`], notes: [], timings: [] });
  }
  const r = reports.at(-1)!;
  console.log(`\n== ${r.scenario}: ${r.differ.length ? `${r.differ.length} difference(s)` : 'faultline and testssl.sh/nmap agree'}`);
  for (const line of r.table ?? []) console.log(`  ${line}`);
  for (const t of r.timings) console.log(`  time     ${t}`);
  for (const a of r.agree) console.log(`  agree    ${a}`);
  for (const d of r.differ) console.log(`  DIFFER   ${d}`);
  for (const n of r.notes) console.log(`  note     ${n}`);
}
console.log(`\nsummary: ${reports.map((r) => `${r.scenario} ${r.differ.length ? `${r.differ.length} diff` : 'ok'}`).join(', ')}`);
