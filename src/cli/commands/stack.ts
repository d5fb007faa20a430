// `faultline stack build|up|down|status|logs` and `faultline doctor`.

import type { Command } from 'commander';
import { action } from '../run-command.js';
import { ReferenceStack } from '../../stack/reference-stack.js';
import { attachStack, type AttachOptions } from '../../stack/attach.js';
import { resolveStackOptions } from '../../stack/config.js';
import { formatStatus, formatUp } from '../../stack/format.js';
import { runDoctor, formatDoctor } from '../../stack/doctor.js';
import { doctorJSON, jsonText } from '../json-output.js';

import { profileNamed } from '../../stack/profiles.js';
import { DockerClient } from '../../stack/docker-client.js';
import { FaultlineError, ExitCode, invalidInput } from '../../errors.js';
import type { StackOptions } from '../../stack/config.js';
import { interruptSignal } from '../run-command.js';
import { dropStackRecords } from '../../faults/state-store.js';

export interface StackFlags {
  stack?: string;
  profile?: string;
  project?: string;
  httpPort?: string;
  httpsPort?: string;
  netPrefix?: string;
  edgePrefix?: string;
  /** Only on the commands that take it (run, load, probe, fault inject). */
  allowRemoteTarget?: boolean;
}

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw invalidInput(name, `"${v}" is not a number`);
  return Number(v);
}

export function stackOptionsFrom(flags: StackFlags): AttachOptions {
  const o: AttachOptions = {};
  if (flags.stack) o.stackFile = flags.stack;
  if (flags.profile) o.profile = profileNamed(flags.profile).name;
  if (flags.project) o.project = flags.project;
  const http = intFlag('http-port', flags.httpPort);
  if (http !== undefined) o.httpPort = http;
  const https = intFlag('https-port', flags.httpsPort);
  if (https !== undefined) o.httpsPort = https;
  if (flags.netPrefix) o.netPrefix = flags.netPrefix;
  if (flags.edgePrefix) o.edgePrefix = flags.edgePrefix;
  if (flags.allowRemoteTarget) o.allowRemoteTarget = true;
  return o;
}

/** The flag that lets traffic leave loopback, for the commands that send any (one flag, one rule: util/remote-target.ts). */
export function addRemoteTargetFlag(cmd: Command): Command {
  return cmd.option('--allow-remote-target', "allow a described endpoint (or URL) that is not a loopback address; faultline's safety default is loopback only");
}

export function addStackFlags(cmd: Command): Command {
  return cmd
    .option('--stack <file>', 'a stack description (YAML) of a stack faultline did not start; without it, the reference stack', process.env.FAULTLINE_STACK)
    .option(
      '--profile <name>',
      "the reference stack's profile: baseline (the classic design) or hardened (its three weaknesses fixed); its defaults: project faultline-hardened, ports 8081/8444, networks 10.213.17/18",
      process.env.FAULTLINE_PROFILE,
    )
    .option('--project <name>', 'stack (compose project) name (default faultline, or faultline-hardened)', process.env.FAULTLINE_PROJECT)
    .option('--http-port <port>', 'loopback port for HTTP (default 8080; hardened 8081)')
    .option('--https-port <port>', 'loopback port for HTTPS (default 8443; hardened 8444)')
    .option('--net-prefix <a.b.c>', 'internal network, first three octets (default 10.213.7; hardened 10.213.17)')
    .option('--edge-prefix <a.b.c>', 'edge network, first three octets (default 10.213.8; hardened 10.213.18)');
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The options of a command that only the reference stack has (build, down): a description is refused by name. */
function referenceOnly(flags: StackFlags, command: string): Partial<StackOptions> {
  if (flags.stack) {
    throw invalidInput('stack', `\`faultline ${command}\` works on the reference stack only; faultline does not build or remove a stack it did not start`);
  }
  const { stackFile: _ignored, allowRemoteTarget: _remote, ...options } = stackOptionsFrom(flags);
  return options;
}

/** `stack up --stack FILE`: a described stack is not started by faultline; wait until it is ready and describe it. */
async function waitDescribed(flags: StackFlags & { timeout: string; json?: boolean }): Promise<number> {
  const s = await attachStack(stackOptionsFrom(flags));
  const { signal, dispose } = interruptSignal();
  try {
    await s.waitReady({ timeoutMs: (intFlag('timeout', flags.timeout) ?? 180) * 1000, signal, log });
    const d = await s.status();
    process.stdout.write(
      flags.json ? `${JSON.stringify(d, null, 2)}\n` : `stack ${d.project}  ${d.httpsUrl}  (described by ${s.spec.file})\n${formatStatus(d.servers)}\n`,
    );
    return ExitCode.ok;
  } finally {
    dispose();
  }
}

export function registerStackCommands(program: Command): void {
  const stack = program.command('stack').description('build, start, inspect and remove the reference stack');

  addStackFlags(stack.command('build').description('make the base image if needed and build the stack images (only what changed)')).action(
    action(async (flags: StackFlags) => {
      const s = new ReferenceStack(referenceOnly(flags, 'stack build'));
      const started = Date.now();
      await s.build({
        log,
        onProgress: (e) => log(`  ${e.image.padEnd(8)} ${e.status}${e.ms !== undefined ? ` in ${(e.ms / 1000).toFixed(1)} s` : ''}  ${e.tag}`),
      });
      log(`images ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }),
  );

  addStackFlags(stack.command('up').description('build what is missing, start the stack, wait until every service is healthy'))
    .option('--timeout <seconds>', "how long to wait for health (default: the stack description's ready_timeout: 180 s, hardened 600 s)")
    .option('--json', 'print the stack description as JSON')
    .action(
      action(async (flags: StackFlags & { timeout: string; json?: boolean }) => {
        if (flags.stack) return waitDescribed(flags);
        const s = new ReferenceStack(referenceOnly(flags, 'stack up'));
        const { signal, dispose } = interruptSignal();
        const started = Date.now();
        try {
          const up = await s.up({
            signal,
            log,
            ...(flags.timeout ? { timeoutMs: intFlag('timeout', flags.timeout)! * 1000 } : {}),
            onProgress: (e) => e.status !== 'cached' && log(`  image ${e.image}: ${e.status}${e.ms !== undefined ? ` in ${(e.ms / 1000).toFixed(1)} s` : ''}`),
          });
          const d = await up.status();
          process.stdout.write(flags.json ? `${JSON.stringify(d, null, 2)}\n` : `${formatUp(d, Date.now() - started)}\n`);
        } finally {
          dispose();
        }
      }),
    );

  addStackFlags(stack.command('down').description('remove every container, network and volume of the stack (and nothing else)')).action(
    action(async (flags: StackFlags) => {
      const s = await ReferenceStack.recorded(referenceOnly(flags, 'stack down'));
      const started = Date.now();
      const removed = await s.down({ log, forget: dropStackRecords });
      log(`stack ${s.options.project} removed (${removed.containers} containers) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }),
  );

  addStackFlags(stack.command('status').description("each server's components, state, health and address"))
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: StackFlags & { json?: boolean }) => {
        const s = await attachStack(stackOptionsFrom(flags));
        const d = await s.status();
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
        } else {
          process.stdout.write(`stack ${d.project}  ${d.httpsUrl}  CA ${d.caPath}\n${formatStatus(d.servers)}\n`);
        }
        const all = d.servers.flatMap((x) => x.components);
        return all.length > 0 && all.every((c) => c.state === 'running' && c.health !== 'unhealthy') ? ExitCode.ok : ExitCode.failed;
      }),
    );

  addStackFlags(stack.command('logs').description('show the logs of the stack, or of some services'))
    .argument('[services...]', 'compose services, e.g. lb-haproxy web1-app')
    .option('--tail <n>', 'lines per container', '100')
    .option('-f, --follow', 'keep following')
    .action(
      action(async (services: string[], flags: StackFlags & { tail: string; follow?: boolean }) => {
        // The reference stack's logs come through compose (one stream, in order); a described stack's from Docker.
        if (!flags.stack && (await (await ReferenceStack.recorded(stackOptionsFrom(flags))).logs(services, flags))) return;
        const s = await attachStack(stackOptionsFrom(flags));
        const docker = new DockerClient();
        const list = (await s.containers()).filter((c) => !services.length || services.includes(c.service));
        if (!list.length) throw new FaultlineError('UNKNOWN_TARGET', `no containers match ${services.join(', ') || s.project}`);
        for (const c of list) process.stdout.write(`==> ${c.service || c.name} <==\n${await docker.logs(c.id, Number(flags.tail))}\n`);
      }),
    );

  addStackFlags(program.command('doctor').description('check the engine, compose, base image and ports, with fix hints'))
    .option('--json', 'print the checks as JSON')
    .action(
      action(async (flags: StackFlags & { json?: boolean }) => {
        const { stackFile: _file, ...options } = stackOptionsFrom(flags);
        const checks = await runDoctor(resolveStackOptions(options));
        const code = checks.some((c) => c.status === 'fail') ? ExitCode.environment : ExitCode.ok;
        process.stdout.write(flags.json ? jsonText(doctorJSON(checks, code)) : `${formatDoctor(checks)}\n`);
        return code;
      }),
    );
}
