// What compose/docker-compose.yml declares about the reference stack: its services, their labels and their
// internal addresses. The stack's shape (how many containers, which servers) is read here, never typed twice.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { FaultlineError } from '../errors.js';
import { PROFILES, type ProfileName } from './profiles.js';
import { LABEL } from './docker-client.js';

export interface ComposeService {
  service: string;
  server: string | undefined;
  role: string | undefined;
  component: string | undefined;
  /** The internal network address as written, `${…}` not yet interpolated; only servers (hosts) have one. */
  internalAddress: string | undefined;
}

export interface ComposeModel {
  /** In the file's order. */
  services: ComposeService[];
}

interface RawService {
  labels?: Record<string, unknown> | string[];
  networks?: Record<string, { ipv4_address?: unknown } | null> | string[];
}

/** Compose labels come as a map or as a list of "key=value". */
function labelMap(labels: RawService['labels']): Record<string, string> {
  if (Array.isArray(labels)) return Object.fromEntries(labels.map((l) => [l.split('=')[0]!, l.slice(l.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(labels ?? {}).map(([k, v]) => [k, String(v)]));
}

/** Parses a compose file's text (YAML merge keys included) into the services it declares (pure). */
export function parseComposeModel(text: string): ComposeModel {
  const doc = parse(text, { merge: true }) as { services?: Record<string, RawService | null> } | null;
  const services = Object.entries(doc?.services ?? {}).map(([service, raw]): ComposeService => {
    const labels = labelMap(raw?.labels);
    const networks = raw?.networks && !Array.isArray(raw.networks) ? raw.networks : {};
    const address = networks.internal?.ipv4_address;
    return {
      service,
      server: labels[LABEL.server],
      role: labels[LABEL.role],
      component: labels[LABEL.component],
      internalAddress: typeof address === 'string' ? address : undefined,
    };
  });
  return { services };
}

/**
 * Compose's variable substitution for the forms the file uses: `${VAR}`, `${VAR:-default}`, `${VAR-default}`
 * and `${VAR:?message}` (pure). A required variable that is missing throws, as compose would.
 */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (_m, name: string, colon: string, op: string | undefined, arg: string) => {
    const v = env[name];
    const unset = v === undefined || (colon === ':' && v === '');
    if (!unset) return v;
    if (op === '-') return arg;
    if (op === '?') throw new FaultlineError('INVALID_INPUT', `compose: ${name}: ${arg || 'required'}`);
    return '';
  });
}

/** Each server's internal address, as the file declares it for the given variables (pure). */
export function serverAddressesOf(model: ComposeModel, env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of model.services) if (s.server && s.component === 'host' && s.internalAddress) out[s.server] = interpolate(s.internalAddress, env);
  return out;
}

const models = new Map<ProfileName, ComposeModel>();

/** A profile's compose file (default: the baseline's), read once per process. */
export function referenceCompose(profile: ProfileName = 'baseline'): ComposeModel {
  let model = models.get(profile);
  if (!model) {
    model = parseComposeModel(readFileSync(PROFILES[profile].composeFile, 'utf8'));
    models.set(profile, model);
  }
  return model;
}
