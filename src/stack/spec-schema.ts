// The stack description's schema, part by part (zod): what a description may say and what each field means.
// spec.ts reads and validates a file against it; everything else reads the parsed StackSpec.

import { z } from 'zod';
import { workloadSpecSchema } from '../load/workload-spec.js';
import { durationField } from '../util/zod.js';

const name = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'lowercase letters, digits, ., - or _');

/** Where labels are missing: the part a compose service plays. */
const serviceRole = z
  .object({
    role: z.string().min(1),
    /** The server it runs on (its own network identity); default: the service's name. */
    server: z.string().min(1).optional(),
    /** What it is (nginx, mariadb, app …); default: the service's name. */
    component: z.string().min(1).optional(),
  })
  .strict();

const endpoint = z
  .object({
    /** The public HTTPS (or HTTP) URL load and probes use; loopback unless --allow-remote-target. */
    url: z.string().url(),
    /** The plain-HTTP entry, when there is one (its redirect to HTTPS is checked). */
    http_url: z.string().url().optional(),
    /** PEM file of the CA that signed the endpoint's certificate (relative to this file). */
    ca: z.string().min(1).optional(),
    /** Skip certificate verification (an explicit, recorded choice). */
    insecure: z.boolean().default(false),
    /** TLS server name (SNI) and the name the certificate is checked against; default: the URL's host. */
    sni: z.string().min(1).optional(),
    /** Other names the certificate must be valid for. */
    hostnames: z.array(z.string().min(1)).default([]),
    /** GET path that answers 2xx when the stack serves (readiness). */
    ready_path: z.string().startsWith('/').default('/'),
    /**
     * Readiness also waits for an answer from each running server of `role` through the endpoint: the ready path's
     * JSON answer names the server that gave it in `field` (the reference stack's /whoami names its web server).
     */
    ready_each: z
      .object({ role: z.string().min(1), field: z.string().min(1).default('server') })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.ca && e.insecure) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['insecure'], message: 'give either ca or insecure: true, not both' });
    if (e.url.startsWith('https:') && !e.ca && !e.insecure)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['ca'],
        message: 'an https URL needs the CA that signed its certificate (ca: FILE), or insecure: true',
      });
  });

/** A database faultline reads as the operator: found by service (or server), login from an environment variable or a file. */
const database = z
  .object({
    service: z.string().min(1).optional(),
    server: z.string().min(1).optional(),
    /** A loopback address (a port published on 127.0.0.1), instead of a service. */
    host: z.enum(['127.0.0.1', '::1', 'localhost']).optional(),
    port: z.number().int().min(1).max(65535).default(3306),
    user: z.string().min(1),
    /** Name of the environment variable holding the password. */
    password_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .optional(),
    /** A JSON file holding the password, and the dot path to it (e.g. db.admin). */
    password_file: z.string().min(1).optional(),
    password_key: z.string().min(1).optional(),
    database: z.string().min(1).optional(),
    /** primary/replica of asynchronous replication, or node: a data node of a synchronous cluster (Galera). */
    role: z.enum(['primary', 'replica', 'node']).default('primary'),
    /** PEM file of the CA that signed the server's certificate: the session runs over TLS, verified (relative to this file). */
    ca: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    const where = [d.service, d.server, d.host].filter((x) => x !== undefined).length;
    if (where !== 1) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['service'], message: 'give exactly one of service, server or host' });
    if (!d.password_env && !d.password_file)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['password_env'], message: 'give password_env (or password_file)' });
    if (d.password_file && !d.password_key)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['password_key'], message: 'the dot path of the password in password_file (e.g. db.reader)' });
  });

/** Reading back what a run wrote: by SQL on a declared database, or over HTTP. */
const sqlReadback = z
  .object({
    /** A database name from `databases`. */
    db: z.string().min(1),
    /** Returns the keys written in this run, one per row in the first column; `?` is bound to the run's LIKE pattern (prefix%). */
    query: z
      .string()
      .min(1)
      .refine((q) => /^\s*(select|with)\b/i.test(q), 'must be a SELECT'),
  })
  .strict();

const httpReadback = z
  .object({
    /** GET per key: path template with ${key}; the key is present when the answer has this status. */
    get: z.string().startsWith('/').optional(),
    found: z.number().int().default(200),
    missing: z.number().int().default(404),
    /** Or one list endpoint: path template with ${prefix}; its JSON answer holds the keys. */
    list: z.string().startsWith('/').optional(),
    /** Dot path of the array in the list answer (default: the answer itself). */
    array: z.string().optional(),
    /** Field of each array element that holds the key (default: the element is the key). */
    field: z.string().optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (Boolean(h.get) === Boolean(h.list)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['get'], message: 'give either get (per key) or list' });
    if (h.get && !h.get.includes('${key}')) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['get'], message: 'must contain ${key}' });
  });

const readback = z
  .object({
    /** How the read is named in reports (default: its db, or "http"). */
    name: z.string().min(1).optional(),
    sql: sqlReadback.optional(),
    http: httpReadback.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (Boolean(r.sql) === Boolean(r.http)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sql'], message: 'give either sql or http' });
  });

const policyRule = z
  .object({
    /** A role of the stack, or * for every server. */
    role: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    /** Who may connect: any (everyone, also a stranger on the network), or roles/operator (not a stranger). */
    from: z.array(z.string().min(1)).min(1),
  })
  .strict();

const exposure = z
  .object({
    /** Docker networks the vantage points join: "the internet" (edge) and "an insider" (internal); default: the project's networks. */
    networks: z
      .object({ edge: z.string().min(1).optional(), internal: z.string().min(1).optional() })
      .strict()
      .default({}),
    /** Ports tried on every server (at most 64). */
    ports: z.array(z.number().int().min(1).max(65535)).min(1).max(64).optional(),
    policy: z.array(policyRule).default([]),
    /** Which role may publish which container ports on the Docker host, and on which addresses. */
    publish: z
      .object({
        role: z.string().min(1),
        ports: z.array(z.number().int().min(1).max(65535)),
        host_ips: z.array(z.string()).default(['127.0.0.1', '::1']),
      })
      .strict()
      .optional(),
  })
  .strict();

/** An absolute path inside a container; kept to characters that need no quoting, since faults use it in shell commands. */
const containerPath = z.string().regex(/^\/[A-Za-z0-9._@+/-]*$/, 'an absolute path inside the container (letters, digits, . _ @ + - /)');

/**
 * The TLS edge the certificate faults act on: the container that terminates the endpoint's TLS, its kind (which
 * says how it reloads and what its configuration looks like) and its files, as paths inside that container.
 */
const edge = z
  .object({
    /** A fault target expression for the container (e.g. role=lb,component=haproxy). */
    target: z.string().min(1).default('role=lb'),
    /** haproxy: reloaded with SIGUSR2 (master-worker mode); nginx: reloaded with SIGHUP. */
    kind: z.enum(['haproxy', 'nginx']),
    /** The certificate file the endpoint serves (HAProxy: certificate and key in one PEM). */
    certificate: containerPath,
    /** nginx: the certificate's key file (ssl_certificate_key). */
    key: containerPath.optional(),
    /** The file the TLS settings live in (HAProxy's active config, nginx.conf); config faults need it, nginx swaps need it. */
    config: containerPath.optional(),
    /** OpenSSL's configuration, whose security level cert-weak-key and cert-sha1 lower. */
    openssl: containerPath.default('/etc/ssl/openssl.cnf'),
    /** Host path of the key of the CA that signed the endpoint (endpoint.ca): faults that sign a bad certificate need it (relative to this file). */
    ca_key: z.string().min(1).optional(),
    /** Host path of a copy of the certificate file, where revert may find the original (relative to this file). */
    saved_copy: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.kind === 'haproxy' && e.key)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['key'], message: 'HAProxy reads the key from the certificate PEM: give no key' });
    if (e.kind === 'nginx' && !e.key) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['key'], message: 'the key file nginx serves (ssl_certificate_key)' });
    // nginx's certificate files are often mounted read-only: a swap points the config at a new file instead.
    if (e.kind === 'nginx' && !e.config) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['config'], message: 'the nginx.conf that names the certificate' });
  });

const promql = z.string().min(1);

const prometheus = z
  .object({
    /** The server running Prometheus (reached on its internal address) … */
    server: z.string().min(1).optional(),
    service: z.string().min(1).optional(),
    port: z.number().int().default(9090),
    /** … or a loopback URL. */
    url: z.string().url().optional(),
    /** PromQL for the server-side requests counter (summed per server by `by`); default: HAProxy's per-backend-server responses. */
    qps_query: z.string().min(1).optional(),
    /**
     * The QPS probe's queries by name, where deriving them from qps_query is not enough: `frontend` (the requests
     * counter at the edge, one series), `freshness` (its newest sample's time), `per_server` (by server) and
     * `web_per_server` (the web servers' own counters, by server).
     */
    queries: z.object({ frontend: promql, freshness: promql, per_server: promql, web_per_server: promql }).partial().strict().optional(),
    /** What the artifact bundle samples over a run, by file name (default: qps_query as "requests"). */
    samples: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a file name: lowercase letters, digits and -'), promql).optional(),
  })
  .strict();

/** A DOCKER_HOST-style endpoint of one swarm node's engine: unix:///path, tcp://host:port or ssh://user@host. */
const engineEndpoint = z.string().regex(/^(unix|tcp|ssh):\/\/\S+$/, 'a Docker endpoint as DOCKER_HOST names it (unix://, tcp:// or ssh://)');

export const stackSpecSchema = z
  .object({
    /**
     * compose: a compose project's containers on this engine. swarm: a swarm stack's tasks, found by service and node on
     * the manager (this engine, DOCKER_HOST) and reached through the engine of the node each runs on.
     */
    kind: z.enum(['compose', 'swarm']).default('compose'),
    /**
     * compose: the project name (its containers carry com.docker.compose.project=<project>). swarm: the stack's name
     * (`docker stack deploy … <name>`: its services carry com.docker.stack.namespace=<name>). Also the state folder's name.
     */
    project: name,
    /**
     * swarm: each node's own engine by node hostname (node → DOCKER_HOST-style endpoint), merged over the engines
     * `faultline swarm up` records in ~/.faultline/swarm.json. The manager's own tasks go through the manager.
     */
    engines: z.record(z.string().min(1), engineEndpoint).optional(),
    /**
     * swarm: faultline's vantage point on the overlay (docs/swarm.md "The vantage"): the stack's networks it joins (default:
     * every attachable one) and the name it answers to there, which firewalls admit as the operator.
     */
    vantage: z
      .object({
        networks: z.array(z.string().min(1)).min(1).optional(),
        alias: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'a DNS name')
          .default('faultline-operator'),
      })
      .strict()
      .optional(),
    /** Human words for reports. */
    title: z.string().default(''),
    /** Where labels are missing: service (a swarm's without the `<stack>_` prefix) → role, server, component. faultline.* labels win where present. */
    services: z.record(serviceRole).default({}),
    /** Every service that must be running for the stack to count as ready (default: every service of the project). */
    required: z.array(z.string().min(1)).optional(),
    endpoint,
    workload: workloadSpecSchema.optional(),
    databases: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lowercase name'), database).default({}),
    readback: z.array(readback).default([]),
    exposure: exposure.default({}),
    prometheus: prometheus.optional(),
    /** Whether the TLS probe also grades the hops inside (LB → web servers on port 80, the app's and replication's database accounts). */
    tls_inside: z.boolean().optional(),
    /** What the artifact bundle copies besides the description: files (relative to this file) into its config/ folder. */
    bundle: z
      .object({ files: z.array(z.string().min(1)).default([]) })
      .strict()
      .optional(),
    /**
     * Where writes go when several data nodes could take them: the HAProxy (on `server`) whose `proxy` sends
     * every session to one node. `db-primary-kill` and the targets `role=db-primary` mean that node.
     */
    writer: z
      .object({ server: z.string().min(1), proxy: z.string().min(1), socket: containerPath.default('/run/haproxy/admin.sock') })
      .strict()
      .optional(),
    /** The nftables table ("family name") and input chain firewall faults change in each server. */
    firewall: z
      .object({
        table: z.string().regex(/^(inet|ip|ip6) [A-Za-z0-9_-]{1,64}$/, 'an nft table as "family name", e.g. inet filter'),
        chain: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, 'an nft chain name')
          .default('input'),
      })
      .strict()
      .default({ table: 'inet faultline', chain: 'input' }),
    /** How long `faultline run` waits for a stack to be ready before it gives up. */
    ready_timeout: durationField({ min: 1000, max: 600_000 }).default('60s'),
    /** The TLS edge certificate faults act on; without it they are refused. */
    edge: edge.optional(),
    /** Plugin modules (.mjs/.js, relative to this file) with faults, probes and report formats for this stack (src/plugins.ts). */
    plugins: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.engines && s.kind !== 'swarm')
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['engines'], message: 'engines are the nodes of a swarm: give them with kind: swarm' });
    if (s.vantage && s.kind !== 'swarm')
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['vantage'],
        message: 'a vantage is for a swarm stack (a compose stack is reached from the Docker host)',
      });
    const names = s.readback.map((r) => r.name).filter((n): n is string => n !== undefined);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['readback'], message: `two read-backs are named "${n}"` });
    });
    s.readback.forEach((r, i) => {
      if (r.sql && !s.databases[r.sql.db])
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['readback', i, 'sql', 'db'],
          message: `no database "${r.sql.db}" in databases (${Object.keys(s.databases).join(', ') || 'none declared'})`,
        });
    });
  });

export type StackSpecInput = z.input<typeof stackSpecSchema>;
export interface StackSpec extends z.output<typeof stackSpecSchema> {
  /** Absolute path of the description, or "<inline>"; relative paths inside it are resolved from its folder. */
  file: string;
}
export type ServiceRole = z.output<typeof serviceRole>;
export type EndpointSpec = z.output<typeof endpoint>;
export type DatabaseSpec = z.output<typeof database>;
export type ReadbackSpec = z.output<typeof readback>;
export type ExposureSpec = z.output<typeof exposure>;
export type PolicyRuleSpec = z.output<typeof policyRule>;
export type PrometheusSpec = z.output<typeof prometheus>;
export type EdgeSpec = z.output<typeof edge>;
/** How a TLS edge reloads and what its configuration looks like. */
export type EdgeKind = EdgeSpec['kind'];
