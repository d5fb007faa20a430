// `faultline probe <name> [key=value ...] [--json]`: parse, run one probe against the stack, print, set the exit code.
// `faultline probe tls <https-url>` looks at any endpoint instead, with no stack at all.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ExitCode, FaultlineError, invalidInput } from '../../errors.js';
import { loadResultFromJSON, type LoadResultJSON } from '../../load/index.js';
import { assertTargetAllowed } from '../../util/remote-target.js';
import { attachStack } from '../../stack/attach.js';
import { probes, parseProbeParams, renderObservation, runProbe, type Observation, type ProbeContext } from '../../probes/index.js';
import { observeTls, tlsProbe, unreachableError, type TlsFacts } from '../../probes/tls.js';
import { tlsTarget } from '../../probes/tls-target.js';
import { renderAccepted } from '../../probes/tls-suites.js';
import { action, interruptSignal } from '../run-command.js';
import { parseKeyValues } from '../key-value.js';
import { addStackFlags, stackOptionsFrom } from './stack.js';

interface ProbeFlags {
  project?: string;
  httpPort?: string;
  httpsPort?: string;
  netPrefix?: string;
  edgePrefix?: string;
  json?: boolean;
  load?: string;
  window?: string;
  ports?: string;
  maxLag?: string;
  ca?: string;
  insecure?: boolean;
  sni?: string;
  allowRemoteTarget?: boolean;
  /** --param key=value (repeatable), the same as a key=value word, as `fault inject --param` takes it. */
  param?: string[];
}

/** The words' URL (the TLS probe's target), if any, and the key=value words around it (pure). */
export function splitTarget(words: string[]): { url: string | undefined; rest: string[] } {
  const urls = words.filter((w) => /^[a-z][a-z0-9+.-]*:\/\//i.test(w));
  if (urls.length > 1) throw invalidInput('url', `one URL at a time, got ${urls.join(' ')}`);
  return { url: urls[0], rest: words.filter((w) => w !== urls[0]) };
}

function readCa(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalidInput('ca', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Node ignores a CA that is not PEM, and every chain would then look untrusted for the wrong reason.
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw invalidInput('ca', `${path} holds no PEM certificate`);
  return pem;
}

/** The observation as text; the TLS probe's accepted suites per version follow its findings. */
function render(obs: Observation): string {
  const scan = obs.probe === 'tls' && !obs.error ? (obs.details.public as TlsFacts | undefined)?.ciphers : undefined;
  if (!scan) return renderObservation(obs);
  const head = `accepted cipher suites (${scan.handshakes} handshakes, ${scan.hellos} bare ClientHellos, ${(scan.ms / 1000).toFixed(1)} s):`;
  return [renderObservation(obs), head, ...renderAccepted(scan.accepted, scan.versions).map((l) => `  ${l}`)].join('\n');
}

function print(obs: Observation, json: boolean | undefined): number {
  process.stdout.write(json ? `${JSON.stringify(obs, null, 2)}\n` : `${render(obs)}\n`);
  if (obs.error) return new FaultlineError(obs.error.code as FaultlineError['code'], obs.error.message).exitCode;
  return obs.passed ? ExitCode.ok : ExitCode.failed;
}

/** `probe tls <url>`: no stack, so no inside to look at; an endpoint nobody answers on is exit 3. */
async function probeTlsUrl(url: string, raw: Record<string, string>, flags: ProbeFlags): Promise<number> {
  const params = parseProbeParams('tls', tlsProbe.params, raw);
  const target = tlsTarget(url, { ...(flags.ca ? { ca: readCa(flags.ca) } : {}), insecure: flags.insecure === true, ...(flags.sni ? { sni: flags.sni } : {}) });
  assertTargetAllowed(url, 'url', flags.allowRemoteTarget);
  const { signal, dispose } = interruptSignal();
  try {
    const obs = await observeTls(target, params, signal);
    const gone = unreachableError(obs.details.public as TlsFacts);
    if (gone) throw gone;
    return print(obs, flags.json);
  } finally {
    dispose();
  }
}

/** key=value words (and the convenience flags) to a params object; pure, exported for tests. */
export function probeParamsFrom(words: string[], flags: Pick<ProbeFlags, 'window' | 'ports' | 'maxLag' | 'param'>): Record<string, string> {
  const out = parseKeyValues([...words, ...(flags.param ?? [])], 'params');
  if (flags.window !== undefined) out.window = flags.window;
  if (flags.ports !== undefined) out.ports = flags.ports;
  if (flags.maxLag !== undefined) out.maxLag = flags.maxLag;
  return out;
}

function readLoad(path: string): Pick<ProbeContext, 'timeline' | 'ledger' | 'faults'> {
  let json: LoadResultJSON;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as LoadResultJSON;
  } catch (err) {
    throw invalidInput('load', `cannot read ${path}: ${(err as Error).message}`);
  }
  const r = loadResultFromJSON(json);
  return { timeline: r.timeline, ledger: r.ledger, faults: r.faults.map((f) => ({ name: f.name, startMs: f.startMs, endMs: f.endMs })) };
}

export function registerProbeCommand(program: Command): void {
  addStackFlags(
    program
      .command('probe')
      .description(`look at the live stack and judge it: ${probes.names().join(', ')}`)
      .argument('<name>', 'probe name')
      .argument('[params...]', 'probe parameters as key=value (e.g. maxLag=2, ports=22,3306); for tls, an https URL to probe instead of the stack'),
  )
    .option('--json', 'print the observation as JSON')
    .option('--param <key=value>', 'a probe parameter (repeatable; the same as a key=value word)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--load <file>', 'a load result (faultline load --json) for the client view, recovery and data loss')
    .option('--window <duration>', 'qps: how far back the server view looks without --load (e.g. 30s)')
    .option('--ports <list>', 'exposure: ports to try (comma-separated, at most 64)')
    .option('--max-lag <seconds>', 'replication: largest accepted lag')
    .option('--ca <file>', "tls <url>: verify the chain against this CA (PEM); default: Node's trust store")
    .option('--insecure', 'tls <url>: do not verify the chain (an explicit choice, recorded)')
    .option('--sni <name>', "tls <url>: server name to send and check the certificate against (default: the URL's host)")
    .option('--allow-remote-target', 'tls: allow an endpoint that is not a loopback address')
    .action(
      action(async (name: string, words: string[], flags: ProbeFlags) => {
        const probe = probes.get(name);
        const { url, rest } = splitTarget(words);
        if (url && probe.name !== 'tls') throw invalidInput('url', `only the tls probe takes a URL; ${probe.name} looks at the stack`);
        if (!url && (flags.ca !== undefined || flags.insecure || flags.sni !== undefined))
          throw invalidInput('ca', '--ca, --insecure and --sni go with a URL: faultline probe tls https://HOST:PORT');
        const raw = probeParamsFrom(rest, flags);
        if (url) return probeTlsUrl(url, raw, flags);
        // Validate before touching Docker, so bad input is exit 2 even without a stack.
        parseProbeParams(probe.name, probe.params, raw);
        const loaded = flags.load ? readLoad(flags.load) : {};
        const stack = await attachStack(stackOptionsFrom(flags));
        if (probe.name === 'tls') assertTargetAllowed(stack.httpsUrl, 'url', flags.allowRemoteTarget);
        // Recovery judges a load file only; every other probe looks at the stack, so a stack that is not
        // there is one clear error rather than a page of "unreachable" findings.
        if (probe.name !== 'recovery' && !(await stack.containers()).some((c) => c.state === 'running')) {
          throw new FaultlineError('STACK_FAILED', `stack ${stack.project} is not running; start it with \`faultline stack up\` (same --project and ports)`);
        }
        const { signal, dispose } = interruptSignal();
        try {
          const ctx: ProbeContext = { stack, docker: stack.docker, ...loaded };
          const obs = await runProbe(probe, ctx, raw, signal);
          if (obs.error && !flags.json) throw new FaultlineError(obs.error.code as FaultlineError['code'], `probe ${probe.name}: ${obs.error.message}`);
          return print(obs, flags.json);
        } finally {
          dispose();
        }
      }),
    );
}
