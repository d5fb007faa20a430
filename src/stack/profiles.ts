// The reference stack's profiles: the baseline (the classic design, with its three named weaknesses) and the
// hardened profile (each weakness fixed). Both are described the same way (a compose file and a stack
// description in compose/) and build their images the same air-gapped way; only what differs is here.

import { join } from 'node:path';
import { invalidInput } from '../errors.js';
import { composeDir } from './paths.js';

export const PROFILE_NAMES = ['baseline', 'hardened'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Every image either profile runs; each is a build context under compose/images/<name>. */
export const IMAGE_NAMES = ['host', 'lb', 'web', 'app', 'db', 'monitor', 'galera', 'galera-lb', 'web-lighttpd', 'web-caddy'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

export interface StackProfile {
  name: ProfileName;
  composeFile: string;
  /** The stack description faultline reads for this profile (targets, probes, read-backs, policy). */
  specFile: string;
  images: readonly ImageName[];
  /** Defaults that let both profiles run side by side on one Docker host. */
  defaults: { project: string; httpPort: number; httpsPort: number; netPrefix: string; edgePrefix: string };
  /** Servers inside the stack get certificates from an internal CA (the hardened profile encrypts every hop). */
  internalTls: boolean;
}

export const PROFILES: Record<ProfileName, StackProfile> = {
  baseline: {
    name: 'baseline',
    composeFile: join(composeDir, 'docker-compose.yml'),
    specFile: join(composeDir, 'faultline.stack.yaml'),
    images: ['host', 'lb', 'web', 'app', 'db', 'monitor'],
    defaults: { project: 'faultline', httpPort: 8080, httpsPort: 8443, netPrefix: '10.213.7', edgePrefix: '10.213.8' },
    internalTls: false,
  },
  hardened: {
    name: 'hardened',
    composeFile: join(composeDir, 'docker-compose.hardened.yml'),
    specFile: join(composeDir, 'faultline-hardened.stack.yaml'),
    images: ['host', 'lb', 'web', 'app', 'monitor', 'galera', 'galera-lb', 'web-lighttpd', 'web-caddy'],
    defaults: { project: 'faultline-hardened', httpPort: 8081, httpsPort: 8444, netPrefix: '10.213.17', edgePrefix: '10.213.18' },
    internalTls: true,
  },
};

export function profileNamed(name: string): StackProfile {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) throw invalidInput('profile', `"${name}" is not a profile (${PROFILE_NAMES.join(' or ')})`);
  return PROFILES[name as ProfileName];
}
