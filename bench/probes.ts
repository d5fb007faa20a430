// Cross-check of faultline's TLS and exposure probes against testssl.sh and nmap on the same stack, printing
// where they differ, with each tool's time as a ratio to faultline's (measured in the same run).
// nmap runs from the Docker host, which is the stack's "operator" address (.1): the firewalls admit it on
// 3306 (both databases) and 9090 (Prometheus), so those ports differ from faultline's insider view by design.
// Run: FAULTLINE_PROJECT=flprobes ... node --import=tsx bench/probes.ts   (the stack must be up)

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachStack } from '../src/stack/stack.js';
import { getProbe, runProbe, DEFAULT_PORTS, REFERENCE_POLICY, allowedBy, type ExposureCheck, type Observation, type TlsFacts, type TlsValue } from '../src/probes/index.js';
import { stackServers } from '../src/probes/targets.js';

function have(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

if (!have('testssl') || !have('nmap')) {
  console.log('installing testssl.sh and nmap from Debian …');
  execFileSync('apt-get', ['install', '-y', 'testssl.sh', 'nmap'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

const stack = await attachStack();
const ctx = { stack, docker: stack.docker };
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}
const diffs: string[] = [];
const agree: string[] = [];
const compare = (what: string, ours: string, theirs: string) => (ours === theirs ? agree : diffs).push(`${what.padEnd(28)} faultline=${ours}  other=${theirs}`);

// ---- TLS: faultline vs testssl.sh ----
const [tlsObs, tlsMs] = await timed(() => runProbe(getProbe('tls'), ctx, { internal: false }, AbortSignal.timeout(60_000)) as Promise<Observation<TlsValue>>);
const facts = tlsObs.details.public as TlsFacts;
const dir = mkdtempSync(join(tmpdir(), 'fl-testssl-'));
const jsonFile = join(dir, 'out.json');
const [, testsslMs] = await timed(async () =>
  spawnSync(
    'testssl',
    ['--openssl', '/usr/bin/openssl', '-p', '-S', '-h', '--add-ca', stack.tls.caPath, '--ip', '127.0.0.1', '--jsonfile', jsonFile, '--warnings', 'off', '--quiet', '--color', '0', `localhost:${stack.options.httpsPort}`],
    { encoding: 'utf8', timeout: 600_000 },
  ),
);
type TestsslItem = { id: string; severity: string; finding: string };
let items: TestsslItem[] = [];
try {
  items = JSON.parse(readFileSync(jsonFile, 'utf8')) as TestsslItem[];
} catch (err) {
  diffs.push(`testssl.sh produced no JSON: ${(err as Error).message}`);
}
rmSync(dir, { recursive: true, force: true });
const item = (id: string) => items.find((i) => i.id === id);
const offered = (id: string) => {
  const f = item(id)?.finding ?? '?';
  return /not offered/i.test(f) ? 'refused' : /offered/i.test(f) ? 'accepted' : f;
};
for (const [ours, theirs] of [['TLSv1', 'TLS1'], ['TLSv1.1', 'TLS1_1'], ['TLSv1.2', 'TLS1_2'], ['TLSv1.3', 'TLS1_3']] as const) {
  compare(`protocol ${ours}`, tlsObs.value.protocols[ours] ?? '?', offered(theirs));
}
// testssl.sh 3.0 reports HSTS as HSTS_time ("365 days (=31536000 seconds) …") when present, HSTS when absent.
const hstsItem = item('HSTS_time') ?? item('HSTS');
compare('HSTS present', String(facts.hsts !== null), String(hstsItem !== undefined && !/not offered|no .*HSTS/i.test(hstsItem.finding)));
compare('chain trusted (stack CA)', String(facts.handshake.authorized), String(/^passed/i.test(item('cert_chain_of_trust')?.finding ?? '')));
compare('key size', `${facts.certificate?.keyType} ${facts.certificate?.keyBits}`, (item('cert_keySize')?.finding ?? '?').replace(/\s+bits.*$/, '').toLowerCase());
// Same algorithm, different spelling ("sha256WithRSAEncryption" vs "SHA256 with RSA").
const sig = (x: string) => x.toLowerCase().replace(/encryption$/, '').replace(/[^a-z0-9]/g, '');
compare('signature algorithm', sig(facts.certificate?.signatureAlgorithm ?? '?'), sig(item('cert_signatureAlgorithm')?.finding ?? '?'));
compare('expired', String(tlsObs.findings.some((f) => f.id === 'cert-expired')), String(/expired/i.test(item('cert_expirationStatus')?.finding ?? '')));
const testsslBad = items.filter((i) => /^(HIGH|CRITICAL)$/.test(i.severity)).map((i) => `${i.id}: ${i.finding}`);
compare('high/critical public findings', String(tlsObs.findings.filter((f) => f.scope === 'public' && /high|critical/.test(f.severity)).length), String(testsslBad.length));
if (testsslBad.length) diffs.push(...testsslBad.map((b) => `  testssl.sh: ${b}`));

// ---- exposure: faultline (insider, internet) vs nmap from the host (operator .1) and on loopback ----
const [expObs, expMs] = await timed(() => runProbe(getProbe('exposure'), ctx, {}, AbortSignal.timeout(120_000)));
const checks = (expObs.details.checks as ExposureCheck[]) ?? [];
const servers = await stackServers(stack);
const addresses = servers.map((s) => s.internal).filter((a): a is string => Boolean(a));
const ports = [...DEFAULT_PORTS].join(',');
const [nmapOut, nmapMs] = await timed(async () =>
  spawnSync('nmap', ['-Pn', '-n', '-sT', '-p', ports, '--max-retries', '1', '--host-timeout', '60s', '-T4', '-oG', '-', ...addresses], { encoding: 'utf8', timeout: 300_000 }).stdout,
);
const nmapOpen = new Set<string>();
for (const line of nmapOut.split('\n')) {
  const m = /^Host: (\S+).*Ports: (.*)$/.exec(line);
  if (!m) continue;
  for (const p of m[2]!.split(',')) {
    const pm = /(\d+)\/open\//.exec(p.trim());
    if (pm) nmapOpen.add(`${m[1]}:${pm[1]}`);
  }
}
for (const s of servers) {
  if (!s.internal) continue;
  for (const port of DEFAULT_PORTS) {
    const insider = checks.find((c) => c.vantage === 'insider' && c.address === s.internal && c.port === port)?.open ?? false;
    const fromHost = nmapOpen.has(`${s.internal}:${port}`);
    if (insider === fromHost) continue;
    const operatorOnly = allowedBy(REFERENCE_POLICY, s.role, port, ['operator']) && !allowedBy(REFERENCE_POLICY, s.role, port, ['any']);
    diffs.push(`${`${s.server}:${port}`.padEnd(28)} faultline insider=${insider ? 'open' : 'closed'}  nmap from host (.1)=${fromHost ? 'open' : 'closed'}${operatorOnly ? '  (expected: the operator .1 is allowed here)' : ''}`);
  }
}
agree.push(`nmap open from the host: ${[...nmapOpen].sort().join(', ') || 'none'}`);
const loop = spawnSync('nmap', ['-Pn', '-n', '-sT', '-p', `${stack.options.httpPort},${stack.options.httpsPort},${ports}`, '-oG', '-', '127.0.0.1'], { encoding: 'utf8', timeout: 120_000 }).stdout;
const loopOpen = [...loop.matchAll(/(\d+)\/open\//g)].map((m) => Number(m[1]));
const published = servers.flatMap((s) => s.published.map((p) => p.hostPort));
for (const p of published) compare(`published 127.0.0.1:${p}`, 'open', loopOpen.includes(p) ? 'open' : 'closed');

console.log(`\nfaultline tls       ${secs(tlsMs)}   testssl.sh -p -S -h  ${secs(testsslMs)}  (×${(testsslMs / tlsMs).toFixed(1)})`);
console.log(`faultline exposure  ${secs(expMs)}   nmap (${addresses.length} hosts × ${DEFAULT_PORTS.length} ports from the host)  ${secs(nmapMs)}  (×${(nmapMs / expMs).toFixed(2)})`);
console.log(`faultline: TLS grade ${tlsObs.value.grade}, exposure holes ${(expObs.value as { holes: number } | null)?.holes ?? '?'}\n`);
console.log('agree:');
for (const a of agree) console.log(`  ${a}`);
console.log(diffs.length ? 'differ:' : 'no differences');
for (const d of diffs) console.log(`  ${d}`);
