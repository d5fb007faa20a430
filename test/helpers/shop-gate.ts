// The shop fixture's nginx gate as the certificate-fault tests see it: the fixture up under its own project, attached
// through its description, the gate's container, and two independent looks at it (what a client with the fixture's CA
// is served; the SHA-256 of every file a certificate fault may touch, and what faultline left in /run/faultline).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SHOP_HOSTNAME, shopStack, type ShopOptions, type ShopStack } from './fixture.js';
import { COMPOSE_PROJECT, DockerClient } from '../../src/stack/docker-client.js';
import { attachStack } from '../../src/stack/attach.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { loadStackSpec } from '../../src/stack/spec.js';
import { handshake } from '../../src/faults/tls-check.js';

export const GATE_FILES = ['/etc/shop/tls/gate.crt', '/etc/shop/tls/gate.key', '/etc/nginx/nginx.conf', '/etc/ssl/openssl.cnf'];

export interface ShopGate {
  shop: ShopStack;
  stack: AttachedStack;
  gateId: string;
  /** The handshake a client of the shop makes, with the fixture's CA and SNI: nothing of faultline's is used. */
  served(): ReturnType<typeof handshake>;
  /** SHA-256 of each file of the gate a certificate fault may touch, and what is in faultline's folder there. */
  gateFiles(): Promise<Record<string, string | null>>;
}

export async function shopGate(options: ShopOptions, docker = new DockerClient()): Promise<ShopGate> {
  const shop = await shopStack({ ...options, log: (line) => console.log(line) });
  const spec = await loadStackSpec(shop.specFile, { ...process.env, ...shop.env });
  const stack = await attachStack({ spec }, docker);
  const gate = (await docker.listContainers({ [COMPOSE_PROJECT]: shop.project })).find((c) => c.service === 'gate');
  if (!gate) throw new Error('no gate container');
  const ca = await readFile(shop.caPath, 'utf8');
  return {
    shop,
    stack,
    gateId: gate.id,
    served: () => handshake({ port: options.httpsPort!, servername: SHOP_HOSTNAME, ca }),
    async gateFiles() {
      const out: Record<string, string | null> = {};
      for (const path of GATE_FILES) {
        const content = await docker.readFile(gate.id, path);
        out[path] = content ? createHash('sha256').update(content).digest('hex') : null;
      }
      const left = await docker.exec(gate.id, ['sh', '-c', 'ls /run/faultline 2>/dev/null || true']);
      out['/run/faultline'] = left.stdout.trim();
      return out;
    },
  };
}
