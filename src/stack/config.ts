// Stack options: defaults, validation, and where a stack keeps its state (CA, fault records, description).

import { homedir } from 'node:os';
import { join } from 'node:path';
import { invalidInput } from '../errors.js';
import { DB_ACCOUNTS, type DbSecrets } from './secrets.js';
import { PROFILES, profileNamed, type ProfileName } from './profiles.js';
import { composeDir } from './paths.js';

export { packageRoot, composeDir } from './paths.js';

export interface StackOptions {
  /** baseline (the classic design) or hardened (its three weaknesses fixed). */
  profile: ProfileName;
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

/** The baseline profile's compose file. */
export const composeFile = join(composeDir, 'docker-compose.yml');

/** Defaults for a profile (FAULTLINE_PROFILE, else baseline); the environment's FAULTLINE_* win over them. */
export function defaultStackOptions(env: NodeJS.ProcessEnv = process.env, profile: string = env.FAULTLINE_PROFILE ?? 'baseline'): StackOptions {
  const d = profileNamed(profile).defaults;
  return {
    profile: profile as ProfileName,
    project: env.FAULTLINE_PROJECT ?? d.project,
    httpPort: Number(env.FAULTLINE_HTTP_PORT ?? d.httpPort),
    httpsPort: Number(env.FAULTLINE_HTTPS_PORT ?? d.httpsPort),
    netPrefix: env.FAULTLINE_NET_PREFIX ?? d.netPrefix,
    edgePrefix: env.FAULTLINE_EDGE_PREFIX ?? d.edgePrefix,
    home: env.FAULTLINE_HOME ?? join(homedir(), '.faultline'),
    domain: env.FAULTLINE_DOMAIN ?? 'faultline.local',
  };
}

/** Validates options at the edge; errors name the option. */
export function resolveStackOptions(partial: Partial<StackOptions> = {}, env: NodeJS.ProcessEnv = process.env): StackOptions {
  const o = { ...defaultStackOptions(env, partial.profile), ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as StackOptions;
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

/** The variables every form of the reference stack (compose or swarm) reads its name, ports and networks from. Pure. */
export function addressVars(o: Pick<StackOptions, 'project' | 'httpPort' | 'httpsPort' | 'netPrefix' | 'edgePrefix'>): Record<string, string> {
  return {
    FAULTLINE_PROJECT: o.project,
    FAULTLINE_HTTPS_PORT: String(o.httpsPort),
    FAULTLINE_HTTP_PORT: String(o.httpPort),
    FAULTLINE_NET_PREFIX: o.netPrefix,
    FAULTLINE_EDGE_PREFIX: o.edgePrefix,
  };
}

export function stateDir(o: Pick<StackOptions, 'home' | 'project'>): string {
  return join(o.home, o.project);
}

/** The options a stack record may carry; anything else in an older stack.json (its dbPassword) is dropped. Pure. */
export function pickStackOptions(o: Record<string, unknown>): Partial<StackOptions> {
  const keys: Array<keyof StackOptions> = ['profile', 'project', 'httpPort', 'httpsPort', 'netPrefix', 'edgePrefix', 'home', 'domain'];
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<StackOptions>;
}

/**
 * Environment for compose: everything docker-compose.yml interpolates. Each container gets only the
 * passwords it uses (compose/docker-compose.yml); `down` passes none, since nothing is created then.
 */
export function composeEnv(o: StackOptions, images: Record<string, string>, tlsDir: string, secrets?: DbSecrets): Record<string, string> {
  const env: Record<string, string> = {
    FAULTLINE_INTERNAL_TLS_DIR: internalTlsDir(o),
    FAULTLINE_PROJECT: o.project,
    FAULTLINE_HTTP_PORT: String(o.httpPort),
    FAULTLINE_HTTPS_PORT: String(o.httpsPort),
    FAULTLINE_NET_PREFIX: o.netPrefix,
    FAULTLINE_EDGE_PREFIX: o.edgePrefix,
    FAULTLINE_TLS_DIR: tlsDir,
  };
  for (const a of DB_ACCOUNTS) env[`FAULTLINE_DB_${a.toUpperCase()}_PASSWORD`] = secrets?.[a] ?? 'none';
  for (const [name, tag] of Object.entries(images)) env[imageVariable(name)] = tag;
  return env;
}

/** The compose variable naming an image: galera-lb → FAULTLINE_IMAGE_GALERA_LB (pure). */
export function imageVariable(name: string): string {
  return `FAULTLINE_IMAGE_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** Every image variable of a profile set to a placeholder: `down` creates nothing, but compose interpolates the whole file. */
export function placeholderImages(o: Pick<StackOptions, 'profile'>): Record<string, string> {
  return Object.fromEntries(PROFILES[o.profile].images.map((n) => [n, 'none']));
}

/** Where the hardened profile's internal certificates live: one folder per server, mounted into it. */
export function internalTlsDir(o: Pick<StackOptions, 'home' | 'project'>): string {
  return join(stateDir(o), 'tls', 'internal');
}
