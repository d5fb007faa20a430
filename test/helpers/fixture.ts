// The shop fixture (test/fixtures/shop/): a second stack for testing stack descriptions. Builds its images once per
// machine, makes its own CA, certificate and passwords, brings the compose project up and waits until it serves,
// or reuses it when it already serves with the same options.

import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';
import mysql from 'mysql2/promise';
import { ensureBaseImage } from '../../src/stack/base-image.js';
import { compose, requireCompose } from '../../src/stack/compose.js';
import { COMPOSE_PROJECT, DockerClient } from '../../src/stack/docker-client.js';
import { buildImageSet, type ImageSet } from '../../src/stack/images.js';
import { request, type SimpleResponse } from '../../src/util/http.js';
import { sleep } from '../../src/util/sleep.js';

export const shopDir = fileURLToPath(new URL('../fixtures/shop/', import.meta.url));
export const shopComposeFile = join(shopDir, 'docker-compose.yml');
export const shopSpecFile = join(shopDir, 'shop.stack.yaml');

export const SHOP_SERVICES = ['store', 'api', 'gate'] as const;
export type ShopService = (typeof SHOP_SERVICES)[number];

/** No faultline.* label on the images: a container inherits its image's labels, and the description must map the services alone. */
const SHOP_IMAGES: ImageSet<ShopService> = {
  dir: join(shopDir, 'images'),
  names: SHOP_SERVICES,
  repo: 'faultline-fixture-shop',
  labels: (name) => ({ 'fixture.image': `shop/${name}` }),
};

/** The name the gate's certificate is checked against (SNI), besides localhost and 127.0.0.1. */
export const SHOP_HOSTNAME = 'shop.test';

/** The gate's TLS 1.2 suites (images/gate/nginx.conf), strongest first; all but the first are weak on purpose. */
export const SHOP_TLS12_SUITES = ['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'AES128-SHA', 'AES256-SHA'] as const;

export interface ShopOptions {
  /** Compose project name (default shop). */
  project?: string;
  /** Every Nth acknowledged POST /orders is not stored (0: none, the default). */
  lossyEvery?: number;
  /** The gate's port on 127.0.0.1 (default 9443). */
  httpsPort?: number;
  /** First three octets of the front and back networks (defaults 10.219.1 and 10.219.2). */
  frontPrefix?: string;
  backPrefix?: string;
  /** The store's data dir on a tmpfs of this size (e.g. 192m) instead of a volume: for disk-fill; emptied when the store stops. */
  boundedStore?: string;
  /** How long to wait for the stack to be healthy and serving (default 180 s; image builds come before). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface ShopStack {
  project: string;
  httpsPort: number;
  /** https://127.0.0.1:<httpsPort> */
  url: string;
  /** The fixture's own CA (PEM), which signed the gate's certificate. */
  caPath: string;
  specFile: string;
  composeFile: string;
  /** The variables shop.stack.yaml needs: pass them to loadStackSpec or a child's env (process.env is left alone). */
  env: Record<string, string>;
  /** Addresses on the back network; operator is the Docker host (the gateway). */
  addresses: Record<ShopService | 'operator', string>;
  networks: { front: string; back: string };
  images: Record<ShopService, string>;
  /** One request through the gate, verified with the fixture CA for shop.test. */
  request(path: string, init?: { method?: string; body?: string; timeoutMs?: number }): Promise<SimpleResponse>;
  /** The refs the api acknowledged without storing (lossy mode), from GET /debug/unsaved. */
  unsaved(): Promise<string[]>;
  /** compose down -v, and the state folder (CA key, passwords) with it. */
  down(): Promise<void>;
}

interface Resolved {
  project: string;
  lossyEvery: number;
  httpsPort: number;
  frontPrefix: string;
  backPrefix: string;
  boundedStore: string | undefined;
  timeoutMs: number;
  log: (line: string) => void;
}

function resolveOptions(o: ShopOptions): Resolved {
  const r: Resolved = {
    project: o.project ?? 'shop',
    lossyEvery: o.lossyEvery ?? 0,
    httpsPort: o.httpsPort ?? 9443,
    frontPrefix: o.frontPrefix ?? '10.219.1',
    backPrefix: o.backPrefix ?? '10.219.2',
    boundedStore: o.boundedStore,
    timeoutMs: o.timeoutMs ?? 180_000,
    log: o.log ?? (() => undefined),
  };
  // Compose v1 keeps only [a-z0-9] in a project name: anything else would give networks other names than ours.
  if (!/^[a-z0-9]{1,40}$/.test(r.project)) throw new Error(`shop fixture: project "${r.project}" must be 1-40 of a-z 0-9`);
  if (!Number.isInteger(r.lossyEvery) || r.lossyEvery < 0) throw new Error(`shop fixture: lossyEvery must be an integer >= 0`);
  if (!Number.isInteger(r.httpsPort) || r.httpsPort < 1 || r.httpsPort > 65535) throw new Error(`shop fixture: httpsPort ${r.httpsPort} is not a port`);
  for (const p of [r.frontPrefix, r.backPrefix])
    if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(p)) throw new Error(`shop fixture: network prefix "${p}" must be three octets, e.g. 10.219.2`);
  if (r.frontPrefix === r.backPrefix) throw new Error('shop fixture: the front and back networks need different prefixes');
  if (r.boundedStore !== undefined && !/^\d{1,5}[kmg]$/.test(r.boundedStore))
    throw new Error(`shop fixture: boundedStore "${r.boundedStore}" must be a size, e.g. 192m`);
  return r;
}

/** ~/.faultline-fixtures/<project> (FAULTLINE_FIXTURES_HOME moves it), 0700: it holds the CA key and the passwords. */
export function shopStateDir(project: string): string {
  return join(process.env.FAULTLINE_FIXTURES_HOME ?? join(homedir(), '.faultline-fixtures'), project);
}

async function privateFile(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

const readText = (path: string) => readFile(path, 'utf8').catch(() => undefined);

/** One random password per account, kept across calls (and boots of the store) until down. */
async function ensureSecrets(dir: string): Promise<{ app: string; reader: string }> {
  const path = join(dir, 'secrets.json');
  const text = await readText(path);
  if (text) return JSON.parse(text) as { app: string; reader: string };
  // URL-safe base64: the store's entrypoint accepts nothing that would need quoting in SQL.
  const secrets = { app: randomBytes(24).toString('base64url'), reader: randomBytes(24).toString('base64url') };
  await privateFile(path, JSON.stringify(secrets, null, 2));
  return secrets;
}

const DAY = 86_400_000;

function rsaKey(): forge.pki.rsa.PrivateKey {
  // Node's native generator: forge's pure-JS one takes seconds for 2048 bits.
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  return forge.pki.privateKeyFromPem(pem);
}

function certificate(o: {
  key: forge.pki.rsa.PrivateKey;
  cn: string;
  days: number;
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  altNames?: string[];
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(o.key.n, o.key.e);
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + o.days * DAY);
  const subject = [
    { name: 'commonName', value: o.cn },
    { name: 'organizationName', value: 'shop fixture' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(o.issuer ? o.issuer.cert.subject.attributes : subject);
  cert.setExtensions(
    o.issuer
      ? [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: (o.altNames ?? []).map((n) => (/^[\d.]+$/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
        ]
      : [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
          { name: 'subjectKeyIdentifier' },
        ],
  );
  cert.sign(o.issuer?.key ?? o.key, forge.md.sha256.create());
  return cert;
}

/**
 * The fixture's own CA and the gate's certificate (for shop.test, localhost, 127.0.0.1); kept while the certificate
 * has a week left and was signed by that CA. Only gate/ is mounted into the gate: the CA key stays on the host.
 */
async function ensureTls(dir: string): Promise<{ caPath: string; tlsDir: string; fingerprint: string }> {
  const caPath = join(dir, 'ca.pem');
  const tlsDir = join(dir, 'gate');
  const [caPem, certPem] = await Promise.all([readText(caPath), readText(join(tlsDir, 'gate.crt'))]);
  if (caPem && certPem && (await readText(join(tlsDir, 'gate.key')))) {
    const cert = new X509Certificate(certPem);
    if (cert.verify(new X509Certificate(caPem).publicKey) && new Date(cert.validTo).getTime() - Date.now() > 7 * DAY)
      return { caPath, tlsDir, fingerprint: cert.fingerprint256 };
  }
  const caKey = rsaKey();
  const ca = certificate({ key: caKey, cn: 'shop fixture CA', days: 365 });
  const gateKey = rsaKey();
  const gate = certificate({
    key: gateKey,
    cn: SHOP_HOSTNAME,
    days: 90,
    issuer: { cert: ca, key: caKey },
    altNames: [SHOP_HOSTNAME, 'localhost', '127.0.0.1'],
  });
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  await privateFile(join(dir, 'ca.key'), forge.pki.privateKeyToPem(caKey));
  await privateFile(join(tlsDir, 'gate.key'), forge.pki.privateKeyToPem(gateKey));
  await writeFile(join(tlsDir, 'gate.crt'), forge.pki.certificateToPem(gate));
  await writeFile(caPath, forge.pki.certificateToPem(ca));
  return { caPath, tlsDir, fingerprint: new X509Certificate(forge.pki.certificateToPem(gate)).fingerprint256 };
}

let built: Promise<Record<ShopService, string>> | undefined;

/** The base image and the fixture's images: built when missing (content-hashed tags), once per process at most. */
function shopImages(log: (line: string) => void): Promise<Record<ShopService, string>> {
  built ??= (async () => {
    const docker = new DockerClient();
    const base = await ensureBaseImage(docker, { log });
    return buildImageSet(docker, base.image, SHOP_IMAGES, {
      onProgress: (e) =>
        e.status !== 'cached' && log(`shop fixture: image ${e.image} ${e.status}${e.ms !== undefined ? ` in ${(e.ms / 1000).toFixed(1)} s` : ''}`),
    });
  })().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return built;
}

/** Every service running and healthy; throws at once (with its log) when one exited or turned unhealthy. */
async function healthy(docker: DockerClient, project: string): Promise<boolean> {
  const list = (await docker.listContainers({ [COMPOSE_PROJECT]: project })).filter((c) => (SHOP_SERVICES as readonly string[]).includes(c.service));
  const broken = list.find((c) => ['exited', 'dead'].includes(c.state) || c.health === 'unhealthy');
  if (broken) throw new Error(`shop fixture: ${broken.name} is ${broken.state} (${broken.health}):\n${(await docker.logs(broken.id, 30)).trim()}`);
  return SHOP_SERVICES.every((s) => list.some((c) => c.service === s && c.state === 'running' && c.health === 'healthy'));
}

async function serving(shop: ShopStack): Promise<boolean> {
  return (await shop.request('/healthz', { timeoutMs: 3000 }).catch(() => undefined))?.status === 200;
}

async function waitReady(docker: DockerClient, shop: ShopStack, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await healthy(docker, shop.project)) || !(await serving(shop))) {
    if (Date.now() > deadline) throw new Error(`shop fixture: ${shop.project} not healthy and serving ${shop.url}/healthz within ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** The last lines of every service's log, for an error that says why `up` failed. */
async function logTails(docker: DockerClient, project: string): Promise<string> {
  const list = await docker.listContainers({ [COMPOSE_PROJECT]: project });
  const tails = await Promise.all(list.map(async (c) => `--- ${c.name} (${c.state}, ${c.health})\n${(await docker.logs(c.id, 15).catch(() => '')).trim()}`));
  return tails.join('\n');
}

const queue = new Map<string, Promise<unknown>>();

/**
 * Brings the shop fixture up (or reuses it: when the project already serves with the same images, passwords,
 * certificate and options, this returns after a few cheap checks). process.env is not touched: the variables the
 * description needs are in the result's `env`.
 */
export function shopStack(options: ShopOptions = {}): Promise<ShopStack> {
  const o = resolveOptions(options);
  // One compose run per project at a time within this process.
  const run = (queue.get(o.project) ?? Promise.resolve()).catch(() => undefined).then(() => bringUp(o));
  queue.set(o.project, run);
  return run;
}

async function bringUp(o: Resolved): Promise<ShopStack> {
  const images = await shopImages(o.log);
  const docker = new DockerClient();
  const dir = shopStateDir(o.project);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const secrets = await ensureSecrets(dir);
  const tls = await ensureTls(dir);
  const composeEnv: Record<string, string> = {
    SHOP_IMAGE_STORE: images.store,
    SHOP_IMAGE_API: images.api,
    SHOP_IMAGE_GATE: images.gate,
    SHOP_APP_PASSWORD: secrets.app,
    SHOP_READER_PASSWORD: secrets.reader,
    SHOP_LOSSY_EVERY: String(o.lossyEvery),
    SHOP_HTTPS_PORT: String(o.httpsPort),
    SHOP_TLS_DIR: tls.tlsDir,
    SHOP_TLS_FINGERPRINT: tls.fingerprint,
    SHOP_FRONT_PREFIX: o.frontPrefix,
    SHOP_BACK_PREFIX: o.backPrefix,
    // Only when asked: the other projects' inputs (and so their reuse fingerprints) stay as they were.
    ...(o.boundedStore ? { SHOP_STORE_VOLUME: 'store-bounded', SHOP_STORE_SIZE: o.boundedStore } : {}),
  };
  const run = { project: o.project, file: shopComposeFile, env: composeEnv };
  const url = `https://127.0.0.1:${o.httpsPort}`;
  const ca = await readFile(tls.caPath);
  const shop: ShopStack = {
    project: o.project,
    httpsPort: o.httpsPort,
    url,
    caPath: tls.caPath,
    specFile: shopSpecFile,
    composeFile: shopComposeFile,
    env: {
      SHOP_PROJECT: o.project,
      SHOP_HTTPS_PORT: String(o.httpsPort),
      SHOP_CA: tls.caPath,
      SHOP_CA_KEY: join(dir, 'ca.key'),
      SHOP_READER_PASSWORD: secrets.reader,
    },
    addresses: { gate: `${o.backPrefix}.10`, api: `${o.backPrefix}.20`, store: `${o.backPrefix}.30`, operator: `${o.backPrefix}.1` },
    networks: { front: `${o.project}_front`, back: `${o.project}_back` },
    images,
    request: (path, init = {}) =>
      request(`${url}${path}`, { method: init.method, body: init.body, ca, servername: SHOP_HOSTNAME, timeoutMs: init.timeoutMs ?? 10_000 }),
    async unsaved() {
      const res = await shop.request('/debug/unsaved');
      if (res.status !== 200) throw new Error(`shop fixture: GET /debug/unsaved answered ${res.status}: ${res.body.slice(0, 200)}`);
      return (JSON.parse(res.body) as { refs: string[] }).refs;
    },
    async down() {
      await compose(await requireCompose(), ['down', '-v', '--remove-orphans', '-t', '5'], run);
      await rm(dir, { recursive: true, force: true });
    },
  };

  // Reuse: the same inputs (compose file, images, passwords, certificate, options) were brought up and still serve.
  const fingerprint = createHash('sha256')
    .update(await readFile(shopComposeFile))
    .update(JSON.stringify(composeEnv))
    .digest('hex');
  const upPath = join(dir, 'up.json');
  const last = await readText(upPath);
  const same = Boolean(last) && (JSON.parse(last!) as { fingerprint?: string }).fingerprint === fingerprint;
  // A container that exited (a fault killed it, say) is no reason to fail: `up -d` below starts it again.
  if (same && (await healthy(docker, o.project).catch(() => false)) && (await serving(shop))) {
    o.log(`shop fixture: ${o.project} already up, reused`);
    return shop;
  }
  await rm(upPath, { force: true });
  const started = Date.now();
  try {
    await compose(await requireCompose(), ['up', '-d', '--remove-orphans'], run);
    await waitReady(docker, shop, o.timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await logTails(docker, o.project).catch(() => '')}`, { cause: err });
  }
  await privateFile(upPath, JSON.stringify({ fingerprint, at: new Date().toISOString() }));
  o.log(`shop fixture: ${o.project} up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${url}`);
  return shop;
}

/** The order refs with `prefix` in the shop's store, read directly with the reader's login: the truth a data-loss check must agree with. */
export async function shopOrderRefs(s: ShopStack, prefix: string): Promise<Set<string>> {
  const conn = await mysql.createConnection({ host: s.addresses.store, user: 'shop_reader', password: s.env.SHOP_READER_PASSWORD!, database: 'shop' });
  try {
    const [rows] = await conn.query('SELECT ref FROM orders WHERE ref LIKE ?', [`${prefix}%`]);
    return new Set((rows as Array<{ ref: string }>).map((r) => r.ref));
  } finally {
    await conn.end();
  }
}
