// Stack options: defaults, validation, and where a stack keeps its state (CA, fault records, description).

import { homedir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidInput } from '../errors.js';
import { DB_ACCOUNTS, type DbSecrets } from './secrets.js';

export interface StackOptions {
  /** Compose project name; also the value of the faultline.stack label. */
  project: string;
  httpPort: number;
  httpsPort: number;
  /** First three octets of the internal network, e.g. "10.213.7". */
  netPrefix: string;
  /** First three octets of the edge network. */
  edgePrefix: string;
  /** Root of faultline's state; a stack's own folder is <home>/<project>. */
  home: string;
  /** The hostname the stack's certificate is issued for (besides localhost and 127.0.0.1). */
  domain: string;
}

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const composeDir = join(packageRoot, 'compose');
export const composeFile = join(composeDir, 'docker-compose.yml');

export function defaultStackOptions(env: NodeJS.ProcessEnv = process.env): StackOptions {
  return {
    project: env.FAULTLINE_PROJECT ?? 'faultline',
    httpPort: Number(env.FAULTLINE_HTTP_PORT ?? 8080),
    httpsPort: Number(env.FAULTLINE_HTTPS_PORT ?? 8443),
    netPrefix: env.FAULTLINE_NET_PREFIX ?? '10.213.7',
    edgePrefix: env.FAULTLINE_EDGE_PREFIX ?? '10.213.8',
    home: env.FAULTLINE_HOME ?? join(homedir(), '.faultline'),
    domain: env.FAULTLINE_DOMAIN ?? 'faultline.local',
  };
}

/** Validates options at the edge; errors name the option. */
export function resolveStackOptions(partial: Partial<StackOptions> = {}, env: NodeJS.ProcessEnv = process.env): StackOptions {
  const o = { ...defaultStackOptions(env), ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as StackOptions;
  if (!/^[a-z0-9][a-z0-9_-]{0,40}$/.test(o.project)) throw invalidInput('project', `"${o.project}" must be lowercase letters, digits, - or _`);
  for (const [name, port] of [
    ['http-port', o.httpPort],
    ['https-port', o.httpsPort],
  ] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidInput(name, `${port} is not a TCP port (1-65535)`);
  }
  if (o.httpPort === o.httpsPort) throw invalidInput('https-port', 'must differ from the HTTP port');
  for (const [name, prefix] of [
    ['net-prefix', o.netPrefix],
    ['edge-prefix', o.edgePrefix],
  ] as const) {
    const parts = prefix.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
      throw invalidInput(name, `"${prefix}" must be three octets, e.g. 10.213.7`);
    }
  }
  if (o.netPrefix === o.edgePrefix) throw invalidInput('edge-prefix', 'must differ from the internal network prefix');
  return o;
}

export function stateDir(o: Pick<StackOptions, 'home' | 'project'>): string {
  return join(o.home, o.project);
}

/** The options a stack record may carry; anything else in an older stack.json (its dbPassword) is dropped. Pure. */
export function pickStackOptions(o: Record<string, unknown>): Partial<StackOptions> {
  const keys: Array<keyof StackOptions> = ['project', 'httpPort', 'httpsPort', 'netPrefix', 'edgePrefix', 'home', 'domain'];
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<StackOptions>;
}

/**
 * Environment for compose: everything docker-compose.yml interpolates. Each container gets only the
 * passwords it uses (compose/docker-compose.yml); `down` passes none, since nothing is created then.
 */
export function composeEnv(o: StackOptions, images: Record<string, string>, tlsDir: string, secrets?: DbSecrets): Record<string, string> {
  const env: Record<string, string> = {
    FAULTLINE_PROJECT: o.project,
    FAULTLINE_HTTP_PORT: String(o.httpPort),
    FAULTLINE_HTTPS_PORT: String(o.httpsPort),
    FAULTLINE_NET_PREFIX: o.netPrefix,
    FAULTLINE_EDGE_PREFIX: o.edgePrefix,
    FAULTLINE_TLS_DIR: tlsDir,
  };
  for (const a of DB_ACCOUNTS) env[`FAULTLINE_DB_${a.toUpperCase()}_PASSWORD`] = secrets?.[a] ?? 'none';
  for (const [name, tag] of Object.entries(images)) env[`FAULTLINE_IMAGE_${name.toUpperCase()}`] = tag;
  return env;
}
