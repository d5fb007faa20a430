// The request-level faults of the TLS edge, pure parts: the rules edge-abort and edge-delay add to HAProxy's and
// nginx's configs, the exact share HAProxy's counter picks, and the refusals.

import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haproxyHttpFault, nginxHttpFault, perMille, PICK_MULTIPLIER, probeBody, type HttpRule } from '../../src/faults/edge-http-config.js';
import { FaultlineError } from '../../src/errors.js';
import { repoRoot } from '../helpers/stack.js';

const haproxyConf = () => readFile(join(repoRoot, 'compose/images/lb/haproxy.cfg'), 'utf8');
const hardenedConf = () => readFile(join(repoRoot, 'compose/images/lb/haproxy-hardened.cfg'), 'utf8');
const shopConf = async () => (await readFile(join(repoRoot, 'test/fixtures/shop/images/gate/nginx.conf'), 'utf8')).replace(/@API_ADDR@/g, '10.0.0.20');

const abort: HttpRule = { mode: 'abort', faultId: 'edge-abort-abc-12', percent: 30, status: 503, path: '/items', method: 'POST' };
const delay: HttpRule = { mode: 'delay', faultId: 'edge-delay-abc-12', percent: 25, delayMs: 200, path: '/' };

const frontend = (cfg: string) => cfg.slice(cfg.indexOf('frontend www'), cfg.indexOf('\nbackend web'));

test('HAProxy abort: probe, counter and return go after the redirect, before default_backend, in the TLS frontend only', async (t) => {
  const out = haproxyHttpFault(await haproxyConf(), abort);
  const www = frontend(out).split('\n');
  const at = (re: RegExp) => www.findIndex((l) => re.test(l));
  t.true(at(/http-request redirect/) < at(/x-faultline-probe/));
  t.true(at(/x-faultline-probe/) < at(/set-var\(proc\.faultline_edge_abort_abc_12_n\)/));
  t.true(at(/return status 503/) < at(/default_backend web/));
  t.regex(
    frontend(out),
    /set-var\(proc\.faultline_edge_abort_abc_12_n\) var\(proc\.faultline_edge_abort_abc_12_n,0\),add\(1\) if \{ path_beg \/items \} \{ method POST \}/,
  );
  t.regex(
    frontend(out),
    /return status 503 .* if \{ path_beg \/items \} \{ method POST \} \{ var\(proc\.faultline_edge_abort_abc_12_n\),mul\(373\),mod\(1000\) lt 300 \}/,
  );
  t.regex(frontend(out), new RegExp(`string "${probeBody(abort.faultId)}" if \\{ req.hdr\\(x-faultline-probe\\) -m str ${abort.faultId} \\}`));
  // The metrics frontend (no ssl) is untouched, and nothing else changed.
  t.is(out.slice(out.indexOf('frontend metrics')), (await haproxyConf()).slice((await haproxyConf()).indexOf('frontend metrics')));
  t.is(
    out
      .split('\n')
      .filter((l) => !/faultline_edge|x-faultline-probe|edge-abort-abc-12:/.test(l))
      .join('\n'),
    await haproxyConf(),
  );
});

test('HAProxy delay: picked requests go through a waiting TCP listener to a frontend with the same default backend', async (t) => {
  for (const cfg of [await haproxyConf(), await hardenedConf()]) {
    const out = haproxyHttpFault(cfg, delay, '/run/faultline');
    t.regex(
      frontend(out),
      /use_backend faultline_edge_delay_abc_12_delay if \{ var\(proc\.faultline_edge_delay_abc_12_n\),mul\(373\),mod\(1000\) lt 250 \}\n\s+default_backend web/,
    );
    t.regex(
      out,
      /backend faultline_edge_delay_abc_12_delay\n(.*\n)*\s+option http-server-close\n(.*\n)*\s+server wait unix@\/run\/faultline\/edge-delay-abc-12-wait\.sock/,
    );
    t.regex(
      out,
      /listen faultline_edge_delay_abc_12_wait\n\s+mode tcp\n\s+bind unix@\/run\/faultline\/edge-delay-abc-12-wait\.sock\n\s+tcp-request inspect-delay 200ms\n\s+tcp-request content accept if WAIT_END/,
    );
    t.regex(
      out,
      /frontend faultline_edge_delay_abc_12_pass\n\s+mode http\n\s+bind unix@\/run\/faultline\/edge-delay-abc-12-pass\.sock\n\s+default_backend web\n$/,
    );
  }
});

test('the counter picks exactly the share of every 1 000 consecutive matching requests, spread out', (t) => {
  for (const percent of [0, 0.1, 1, 30, 33.3, 50, 99.9, 100]) {
    const picked = Array.from({ length: 1000 }, (_, i) => ((i + 1) * PICK_MULTIPLIER) % 1000 < perMille(percent));
    t.is(picked.filter(Boolean).length, perMille(percent), `${percent}%`);
  }
  // 30 %: no run of more than two picked requests in a row.
  const run = Array.from({ length: 1000 }, (_, i) => (((i + 1) * PICK_MULTIPLIER) % 1000 < 300 ? 'x' : '.')).join('');
  t.false(run.includes('xxx'));
});

test('HAProxy refusals: no TLS frontend, a delay without default_backend, the same fault twice, unsafe path or method', async (t) => {
  const cfg = await haproxyConf();
  t.throws(() => haproxyHttpFault(cfg.replace(/ ssl crt/g, ''), abort), { instanceOf: FaultlineError, message: /no frontend that binds with ssl/ });
  t.throws(() => haproxyHttpFault(cfg.replace('    default_backend web\n', ''), delay), { message: /no default_backend/ });
  t.throws(() => haproxyHttpFault(haproxyHttpFault(cfg, abort), abort), { message: /already holds/ });
  t.throws(() => haproxyHttpFault(cfg, { ...abort, path: '/x } || { always_true' }), { message: /path:/ });
  t.throws(() => haproxyHttpFault(cfg, { ...abort, method: 'GET;' }), { message: /method:/ });
});

test('nginx abort: a split on the request id, a map for path and method, the probe and the return in the TLS server', async (t) => {
  const out = nginxHttpFault(await shopConf(), abort);
  t.regex(out, /http \{\n\s+# edge-abort-abc-12: answer 503 to 30% of POST \/items\*/);
  t.regex(out, /split_clients "\$\{request_id\}" \$faultline_edge_abort_abc_12_pick \{ 30% 1; \* ""; \}/);
  t.regex(out, /map "\$request_method \$uri" \$faultline_edge_abort_abc_12_match \{ "~\^POST \/items" 1; default ""; \}/);
  t.regex(
    out,
    /server \{\n\s+if \(\$http_x_faultline_probe = "edge-abort-abc-12"\) \{ return 200 "faultline-fault edge-abort-abc-12"; \}\n\s+if \(\$faultline_edge_abort_abc_12\) \{ return 503; \}\n\s+listen 443 ssl;/,
  );
  const conf = await shopConf();
  t.throws(() => nginxHttpFault(conf, delay), { message: /stock nginx has no per-request delay/ });
  t.throws(() => nginxHttpFault(conf.replace('listen 443 ssl;', 'listen 80;'), abort), { message: /no server block that listens with ssl/ });
});
