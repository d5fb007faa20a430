// An example faultline plugin: one fault, one probe and one report format, registered through the API faultline
// hands the plugin (no import of faultline itself, so it works beside a globally installed CLI too).
//
// - fault `maintenance-page`: one web server's nginx answers every request with a 503 maintenance page while its
//   /health keeps answering 200, so the load balancer keeps it in rotation (a health check that does not see what
//   users see). It edits nginx's site configuration in the container and reloads nginx; revert puts the saved bytes
//   back and reloads again; a dead man's switch in the container does the same if faultline dies meanwhile.
// - probe `maintenance-seen`: sends a few requests to the stack's endpoint and counts maintenance pages (503 with
//   the page's header, or a body matching a pattern).
// - report format `csv`: every activity of a run, one row each, written to report.csv next to journal.json.
//
// Plain JavaScript with JSDoc types: Node cannot import TypeScript without a loader. `npx tsc -p examples/plugins`
// checks it against faultline's own types.

/** The site configuration the reference stack's web image installs (compose/images/web). */
const CONF = '/etc/nginx/conf.d/faultline.conf';
/** The copy of the real configuration kept in the container while the fault is on (the dead man's switch restores it). */
const SAVED = '/etc/nginx/faultline-maintenance.saved';
/** First line of the maintenance configuration: how check() and plan() recognise it. */
const MARK = '# faultline plugin maintenance-page: in effect';
const PAGE = '<!doctype html><title>Maintenance</title><h1>Down for maintenance</h1><p>Back soon.</p>';

/** @typedef {{ id: string, name: string, original: string }} NginxTarget the container and its configuration (base64) */
/** @typedef {{ health: boolean, containers: NginxTarget[] }} MaintenanceData */
/** @typedef {{ health: boolean }} MaintenanceParams */
/** @typedef {{ path: string, requests: number, pattern: string }} SeenParams */

/**
 * The maintenance configuration made from the real one (pure): `location /` answers the page at once; with `health`
 * an exact `/health` location still goes to the app. Undefined when the configuration has no `location / {`.
 * @param {string} conf
 * @param {boolean} health
 * @returns {string | undefined}
 */
export function maintenanceConfig(conf, health) {
  const at = conf.indexOf('location / {');
  if (at < 0) return undefined;
  const open = at + 'location / {'.length;
  const keep = health ? 'location = /health {\n        proxy_pass http://app;\n    }\n    ' : '';
  const page = [
    '',
    '        default_type text/html;',
    '        add_header Retry-After 120 always;',
    '        add_header X-Maintenance on always;',
    `        return 503 '${PAGE}';`,
  ].join('\n');
  return `${MARK}\n${conf.slice(0, at)}${keep}${conf.slice(at, open)}${page}${conf.slice(open)}`;
}

/** @type {import('faultline').Plugin} */
export default function maintenancePagePlugin(faultline) {
  const { z, FaultlineError, targets, deadMansSwitch } = faultline;

  /** Shell that puts the saved configuration back and reloads nginx (revert's last resort, and the switch's). */
  const restoreSaved = `if [ -e ${SAVED} ]; then cat ${SAVED} > ${CONF} && rm -f ${SAVED} && nginx -s reload; fi`;

  /**
   * Whether nginx inside the container answers the page now (plaintext :80, as in the baseline profile; a server
   * without it is taken at its word once nginx has reloaded).
   * @param {import('faultline').FaultContext} ctx
   * @param {string} id
   * @param {AbortSignal} signal
   */
  async function answersPage(ctx, id, signal) {
    const get = 'exec 3<>/dev/tcp/127.0.0.1/80 || exit 3; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3; head -c 600 <&3';
    const r = await ctx.docker.exec(id, ['bash', '-c', get], { signal });
    if (r.exitCode === 3) return undefined;
    return /^HTTP\/1\.\d 503/.test(r.stdout) && /x-maintenance: on/i.test(r.stdout);
  }

  /**
   * Runs shell in the container with the configuration on stdin written to CONF, then checks and reloads nginx.
   * @param {import('faultline').FaultContext} ctx
   * @param {string} id
   * @param {string} conf
   * @param {string} after shell run after the new configuration is in place, before the reload
   * @param {AbortSignal} signal
   */
  async function install(ctx, id, conf, after, signal) {
    const script = `cat > ${CONF}.new && mv ${CONF}.new ${CONF} && ${after} nginx -t -q && nginx -s reload`;
    const r = await ctx.docker.exec(id, ['sh', '-c', script], { stdin: conf, signal });
    if (r.exitCode !== 0) throw new FaultlineError('TARGET_UNREACHABLE', `nginx refused the configuration: ${(r.stderr || r.stdout).trim()}`);
  }

  /** @type {import('faultline').FaultDefinition<MaintenanceParams, MaintenanceData>} */
  const maintenancePage = {
    name: 'maintenance-page',
    kind: 'process',
    description: "one web server's nginx answers a 503 maintenance page; its /health stays 200, so the LB keeps it in rotation",
    defaultTarget: 'random:role=web',
    params: z.object({ health: faultline.params.boolean.default(true).describe('(keep /health answering 200: the LB keeps the server)') }).strict(),
    data: z.object({ health: z.boolean(), containers: z.array(z.object({ id: z.string(), name: z.string(), original: z.string() })) }).strict(),

    async plan(ctx, target, params) {
      if (!target) throw new FaultlineError('INVALID_INPUT', 'maintenance-page: target: required (e.g. server=web1)');
      // A server's nginx only: `server=web1` means its nginx, not its host, app or exporter.
      const found = await targets.resolveContainers(ctx, target, (c) => c.component === 'nginx');
      const containers = [];
      for (const c of found) {
        const conf = (await ctx.docker.readFile(c.id, CONF))?.toString('utf8');
        if (conf === undefined) throw new FaultlineError('INVALID_INPUT', `maintenance-page: ${c.service} has no ${CONF}`);
        if (conf.startsWith(MARK))
          throw new FaultlineError('INVALID_INPUT', `maintenance-page: ${c.service} shows the page already (run \`faultline revert\`)`);
        if (maintenanceConfig(conf, params.health) === undefined)
          throw new FaultlineError('INVALID_INPUT', `maintenance-page: ${CONF} of ${c.service} has no "location / {"`);
        containers.push({ id: c.id, name: c.service || c.name, original: Buffer.from(conf).toString('base64') });
      }
      const names = containers.map((c) => c.name).join(', ');
      return {
        targets: found.map(targets.toRef),
        steps: [
          `${names}: keep a copy of ${CONF}, arm a dead man's switch that restores it, write the maintenance page configuration, nginx -s reload`,
          params.health
            ? '/health still reaches the app: the load balancer keeps the server in rotation'
            : '/health answers 503 too: the load balancer takes the server out',
          'revert: the saved configuration back byte for byte, nginx -s reload',
        ],
        slots: found.map((c) => `${c.server ?? c.service}:nginx-config`),
        data: { health: params.health, containers },
      };
    },

    async apply(ctx, record, _update, signal) {
      for (const c of record.data.containers) {
        await targets.assertStackContainer(ctx, c.id);
        const original = Buffer.from(c.original, 'base64').toString('utf8');
        const page = maintenanceConfig(original, record.data.health) ?? original;
        // The copy first (a retried apply keeps the first one), then the switch that restores it, then the change.
        const armed = await ctx.docker.exec(c.id, deadMansSwitch.arm(record.id, ctx.maxDurationMs, restoreSaved, `[ -e ${SAVED} ] || cp ${CONF} ${SAVED}`), {
          signal,
        });
        if (armed.exitCode !== 0) throw new FaultlineError('TARGET_UNREACHABLE', `${c.name}: cannot arm the dead man's switch: ${armed.stderr.trim()}`);
        await install(ctx, c.id, page, '', signal);
        await faultline.retryUntil(
          () => answersPage(ctx, c.id, signal),
          (shows) => shows !== false,
          { timeoutMs: 10_000, intervalMs: 200, signal, what: `${c.name} to answer the maintenance page` },
        );
      }
    },

    async revert(ctx, record, signal) {
      for (const c of record.data.containers) {
        const state = await ctx.docker.findContainer(c.id);
        // Gone, or stopped: the web image installs its configuration again on every start, so nothing is left to undo.
        if (!state?.running) continue;
        await targets.assertStackContainer(ctx, c.id);
        await ctx.docker.exec(c.id, deadMansSwitch.disarm(record.id), { signal });
        await install(ctx, c.id, Buffer.from(c.original, 'base64').toString('utf8'), `rm -f ${SAVED} &&`, signal);
        await faultline.retryUntil(
          () => answersPage(ctx, c.id, signal),
          (shows) => shows !== true,
          { timeoutMs: 10_000, intervalMs: 200, signal, what: `${c.name} to answer normally again` },
        );
      }
    },

    async check(ctx, record) {
      const on = [];
      for (const c of record.data.containers) {
        const conf = (await ctx.docker.readFile(c.id, CONF))?.toString('utf8') ?? '';
        if (conf.startsWith(MARK)) on.push(c.name);
      }
      return { active: on.length === record.data.containers.length, detail: `${on.length}/${record.data.containers.length} answer the maintenance page` };
    },
  };

  /** @type {import('faultline').Probe<SeenParams, number>} */
  const maintenanceSeen = {
    name: 'maintenance-seen',
    description: "how many of a few requests to the stack's endpoint got a maintenance page (503 with its header, or a body matching a pattern)",
    params: z
      .object({
        path: z.string().startsWith('/').default('/whoami'),
        requests: faultline.params.integer(1, 100).default(9),
        pattern: z
          .string()
          .default('down for maintenance')
          .refine((p) => {
            try {
              return new RegExp(p, 'i') instanceof RegExp;
            } catch {
              return false;
            }
          }, 'a regular expression that compiles (matched without regard to case)'),
      })
      .strict(),
    headline: (v) => v,
    render: (o) => [`${o.value} of ${o.details.requests} requests got the maintenance page`, `statuses: ${JSON.stringify(o.details.statuses)}`],
    async run(ctx, params, signal) {
      const started = faultline.startMark();
      const tls = ctx.stack.tlsOptions(await ctx.stack.ca());
      const re = new RegExp(params.pattern, 'i');
      /** @type {Record<string, number>} */
      const statuses = {};
      let seen = 0;
      // One at a time: the load balancer's round robin then shows each web server in turn.
      for (let i = 0; i < params.requests; i += 1) {
        const r = await faultline.request(`${ctx.stack.httpsUrl}${params.path}`, { ...tls, timeoutMs: 3000, signal });
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 503 && (r.headers['x-maintenance'] === 'on' || re.test(r.body))) seen += 1;
      }
      return faultline.observation('maintenance-seen', started, {
        value: seen,
        tolerance: { type: 'atMost', max: 0 },
        details: { requests: params.requests, statuses },
        findings: seen
          ? [{ id: 'maintenance-page', severity: 'high', message: `${seen} of ${params.requests} requests got a maintenance page`, where: ctx.stack.httpsUrl }]
          : [],
      });
    },
  };

  /**
   * A field of a CSV row: quoted when it holds a comma, a quote or a line break (RFC 4180).
   * @param {unknown} v
   */
  const cell = (v) => {
    const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };

  /** @param {number | undefined} v offset from the start of load, to the millisecond */
  const ms = (v) => (v === undefined ? undefined : Math.round(v));

  /** @type {import('faultline').ReportFormat} */
  const csv = {
    name: 'csv',
    file: 'report.csv',
    label: 'csv',
    render(journal) {
      const head = ['experiment', 'phase', 'kind', 'name', 'status', 'start', 'end', 'start_ms', 'end_ms', 'target', 'error'];
      const rows = faultline
        .experimentsOf(journal)
        .flatMap((e) =>
          [...e.steadyStateBefore.activities, ...e.method, ...e.steadyStateAfter.activities, ...e.rollbacks].map((a) =>
            [e.id, a.phase, a.kind, a.name, a.status, a.start, a.end, ms(a.startMs), ms(a.endMs), a.target, a.error].map(cell).join(','),
          ),
        );
      return `${[head.join(','), ...rows].join('\r\n')}\r\n`;
    },
  };

  faultline.faults.register(maintenancePage);
  faultline.probes.register(maintenanceSeen);
  faultline.reportFormats.register(csv);
}
