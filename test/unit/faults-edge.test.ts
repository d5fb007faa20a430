// The TLS edge of the certificate faults, pure parts: the `edge` of a stack description, the config edits per kind
// (nginx's next to HAProxy's), the names a bad certificate is made for, and where a check connects.

import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configEdits, enclosingBlock, nginxCiphersAtLevelZero, nginxPointAt, seclevelZero } from '../../src/faults/edge-config.js';
import { certificateNames, issueBadCertificate } from '../../src/faults/certificate-bad.js';
import { handshakeTarget, loopbackUrl } from '../../src/faults/tls-check.js';
import { loadStackSpec, parseStackSpec } from '../../src/stack/spec.js';
import { PROFILES } from '../../src/stack/profiles.js';
import { createCa, issueCertificate } from '../../src/stack/tls.js';
import { repoRoot } from '../helpers/stack.js';
import { InvalidFileError } from '../../src/errors.js';

const shopConf = async () => (await readFile(join(repoRoot, 'test/fixtures/shop/images/gate/nginx.conf'), 'utf8')).replace(/@API_ADDR@/g, '10.0.0.20');
const haproxyConf = () => readFile(join(repoRoot, 'compose/images/lb/haproxy.cfg'), 'utf8');

const base = { project: 'shop', endpoint: { url: 'https://127.0.0.1:9443', insecure: true } };
const nginxEdge = { kind: 'nginx', certificate: '/etc/shop/tls/gate.crt', key: '/etc/shop/tls/gate.key', config: '/etc/nginx/nginx.conf' };

function problemsOf(raw: unknown): string[] {
  try {
    parseStackSpec(raw, '/x/shop.stack.yaml', {});
    return [];
  } catch (err) {
    if (!(err instanceof InvalidFileError)) throw err;
    return err.message.split('\n');
  }
}

test('edge: defaults, host paths resolved from the description, container paths checked', (t) => {
  const spec = parseStackSpec({ ...base, edge: { ...nginxEdge, ca_key: 'ca.key', saved_copy: '/abs/gate.crt' } }, '/x/shop.stack.yaml', {});
  t.deepEqual(spec.edge, { ...nginxEdge, target: 'role=lb', openssl: '/etc/ssl/openssl.cnf', ca_key: '/x/ca.key', saved_copy: '/abs/gate.crt' });
  t.is(parseStackSpec(base, '/x/s.yaml', {}).edge, undefined, 'no edge: certificate faults refuse, nothing else changes');
  t.deepEqual(problemsOf({ ...base, edge: { ...nginxEdge, key: undefined, config: undefined } }), [
    '/x/shop.stack.yaml: stack.edge.key: the key file nginx serves (ssl_certificate_key)',
    '/x/shop.stack.yaml: stack.edge.config: the nginx.conf that names the certificate',
  ]);
  t.deepEqual(problemsOf({ ...base, edge: { kind: 'haproxy', certificate: '/c.pem', key: '/k.pem' } }), [
    '/x/shop.stack.yaml: stack.edge.key: HAProxy reads the key from the certificate PEM: give no key',
  ]);
  t.regex(
    problemsOf({ ...base, edge: { kind: 'haproxy', certificate: "/c'; rm -rf /" } })[0]!,
    /stack\.edge\.certificate: an absolute path inside the container/,
  );
  t.regex(problemsOf({ ...base, edge: { kind: 'apache', certificate: '/c.pem' } })[0]!, /stack\.edge\.kind/);
});

test('edge: both profiles of the reference stack describe their HAProxy as the faults used it before', async (t) => {
  for (const profile of Object.values(PROFILES)) {
    const spec = await loadStackSpec(profile.specFile, { FAULTLINE_STATE_DIR: '/h/p' });
    t.deepEqual(spec.edge, {
      target: 'role=lb,component=haproxy',
      kind: 'haproxy',
      certificate: '/etc/haproxy/certs/site.pem',
      config: '/etc/haproxy/haproxy.active.cfg',
      openssl: '/etc/ssl/openssl.cnf',
      ca_key: '/h/p/tls/ca-key.pem',
      saved_copy: '/h/p/tls/lb/site.pem',
    });
  }
  const shop = await loadStackSpec(join(repoRoot, 'test/fixtures/shop/shop.stack.yaml'), { SHOP_CA: '/f/ca.pem', SHOP_CA_KEY: '/f/ca.key' });
  t.like(shop.edge, { kind: 'nginx', target: 'service=gate', certificate: '/etc/shop/tls/gate.crt', key: '/etc/shop/tls/gate.key', ca_key: '/f/ca.key' });
});

test('nginx tls-legacy: every ssl_protocols opened to TLS 1.0, ciphers at level 0 with the CBC suites, once each', async (t) => {
  const cfg = await shopConf();
  const out = configEdits.nginx['legacy-tls'](cfg);
  t.regex(out, /^\s*ssl_protocols TLSv1 TLSv1\.1 TLSv1\.2 TLSv1\.3;$/m);
  const ciphers = /ssl_ciphers "([^"]+)";/.exec(out)![1]!.split(':');
  t.deepEqual(ciphers, ['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'AES128-SHA', 'AES256-SHA', 'ECDHE-RSA-AES256-SHA', '@SECLEVEL=0']);
  t.is(
    out.replace(/ssl_protocols[^;]*;/, '').replace(/ssl_ciphers[^;]*;/, ''),
    cfg.replace(/ssl_protocols[^;]*;/, '').replace(/ssl_ciphers[^;]*;/, ''),
    'nothing else changes',
  );
  // No ssl_ciphers at all: nginx's default list at level 0, right after the certificate (valid in the same contexts).
  const bare = 'server {\n    listen 443 ssl;\n    ssl_certificate /c.crt;\n    ssl_protocols TLSv1.2;\n}\n';
  t.is(
    configEdits.nginx['legacy-tls'](bare),
    'server {\n    listen 443 ssl;\n    ssl_certificate /c.crt;\n    ssl_ciphers "HIGH:!aNULL:!MD5:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:@SECLEVEL=0";\n    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n}\n',
  );
  t.throws(() => configEdits.nginx['legacy-tls']('server { listen 443 ssl; }'), { message: 'tls-legacy: the nginx config has no ssl_protocols line to relax' });
});

test('nginx hsts-removed: every add_header Strict-Transport-Security line goes; a config without one is refused in one line', async (t) => {
  const cfg = `server {\n    listen 443 ssl;\n    add_header Strict-Transport-Security "max-age=31536000" always;\n    location / {\n        add_header 'Strict-Transport-Security' 'max-age=1';\n        add_header X-Frame-Options DENY;\n    }\n}\n`;
  t.is(configEdits.nginx['no-hsts'](cfg), `server {\n    listen 443 ssl;\n    location / {\n        add_header X-Frame-Options DENY;\n    }\n}\n`);
  t.throws(() => configEdits.nginx['no-hsts'](cfg.replace(/.*Strict.*\n/g, '')), {
    message: 'hsts-removed: the nginx config has no add_header Strict-Transport-Security line',
  });
  t.throws(() => configEdits.nginx['no-hsts'](cfg.replace(/.*Strict.*\n/g, '')), { instanceOf: Error });
  await shopConf().then((c) => t.throws(() => configEdits.nginx['no-hsts'](c), { message: /hsts-removed/ }));
});

test('nginx http-no-redirect: a redirect-only server lends its listen lines to the TLS server; an if block goes; others are refused', (t) => {
  const split = [
    'http {',
    '    # plain HTTP only redirects',
    '    server {',
    '        listen 80 default_server;',
    '        listen [::]:80;',
    '        return 301 https://$host$request_uri;',
    '    }',
    '    server {',
    '        listen 443 ssl;',
    '        location / { proxy_pass http://api; }',
    '    }',
    '}',
    '',
  ].join('\n');
  t.is(
    configEdits.nginx['no-redirect'](split),
    [
      'http {',
      '    # plain HTTP only redirects',
      '    server {',
      '        listen 443 ssl;',
      '        listen 80 default_server;',
      '        listen [::]:80;',
      '        location / { proxy_pass http://api; }',
      '    }',
      '}',
      '',
    ].join('\n'),
  );
  const inline =
    'server {\n    listen 80;\n    listen 443 ssl;\n    if ($scheme = http) {\n        return 308 https://$host$request_uri;\n    }\n    root /srv;\n}\n';
  t.is(configEdits.nginx['no-redirect'](inline), 'server {\n    listen 80;\n    listen 443 ssl;\n    root /srv;\n}\n');
  t.throws(() => configEdits.nginx['no-redirect']('server { listen 80; location / { return 301 https://x/; } }'), {
    message: 'http-no-redirect: the nginx redirect is inside "location /", not a server or an if block',
  });
  t.throws(() => configEdits.nginx['no-redirect']('server { listen 443 ssl; }'), {
    message: 'http-no-redirect: the nginx config has no HTTP→HTTPS redirect (return 301 https://…)',
  });
  t.throws(() => configEdits.nginx['no-redirect']('server {\n listen 80;\n return 301 https://$host;\n}\n'), { message: /no server with "listen … ssl"/ });
});

test('enclosingBlock finds the block around a position, its header without comments', (t) => {
  const cfg = 'a;\n# c { }\nserver {\n  location / {\n    x;\n  }\n}\n';
  const b = enclosingBlock(cfg, cfg.indexOf('x;'))!;
  t.is(b.header, 'location /');
  t.is(cfg.slice(b.start, b.end), '  location / {\n    x;\n  }\n');
  t.is(enclosingBlock(cfg, 1), undefined);
});

test('nginx certificate swap: the config points at the new file, the key line stays unless asked; a missing line is refused', async (t) => {
  const cfg = await shopConf();
  const out = nginxPointAt(cfg, 'ssl_certificate', '/etc/shop/tls/gate.crt', '/run/faultline/x.crt');
  t.regex(out, /^\s*ssl_certificate \/run\/faultline\/x\.crt;$/m);
  t.regex(out, /^\s*ssl_certificate_key \/etc\/shop\/tls\/gate\.key;$/m);
  t.is(out.split('\n').length, cfg.split('\n').length);
  t.regex(nginxPointAt("ssl_certificate_key '/k.pem';", 'ssl_certificate_key', '/k.pem', '/n.key'), /^ssl_certificate_key \/n\.key;$/);
  t.throws(() => nginxPointAt(cfg, 'ssl_certificate', '/etc/other.crt', '/x'), {
    message: 'the nginx config has no "ssl_certificate /etc/other.crt;" line (stack.edge names that file)',
  });
  // Weak certificates: nginx applies ssl_ciphers before it loads the certificate, so level 0 there is enough.
  const weak = nginxCiphersAtLevelZero('ssl_ciphers HIGH:!aNULL:@SECLEVEL=2;');
  t.is(weak, 'ssl_ciphers "HIGH:!aNULL:@SECLEVEL=0";');
  t.is(nginxCiphersAtLevelZero(weak), weak, 'idempotent');
});

test('HAProxy edits are as before: the reference config relaxed, HSTS and the redirect removed, OpenSSL at level 0', async (t) => {
  const cfg = await haproxyConf();
  t.regex(configEdits.haproxy['legacy-tls'](cfg), /ssl-min-ver TLSv1\.0[\s\S]*AES256-SHA:@SECLEVEL=0/);
  t.notRegex(configEdits.haproxy['no-hsts'](cfg), /Strict-Transport-Security/);
  t.notRegex(configEdits.haproxy['no-redirect'](cfg), /http-request redirect/);
  t.throws(() => configEdits.haproxy['no-hsts']('frontend x\n'), { message: 'hsts-removed: the LB config sets no Strict-Transport-Security header' });
  t.regex(seclevelZero('[openssl_init]\nproviders = p\n'), /\[openssl_init\]\nssl_conf = faultline_ssl[\s\S]*CipherString = DEFAULT:@SECLEVEL=0/);
});

test('a bad certificate is made for the endpoint names and those of the certificate it replaces', (t) => {
  const ca = createCa('test CA');
  const now = Date.now();
  const current = new X509Certificate(
    issueCertificate({
      commonName: 'shop.test',
      altNames: ['shop.test', 'localhost', '127.0.0.1'],
      notBefore: new Date(now - 1e6),
      notAfter: new Date(now + 1e9),
      issuer: ca,
    }).certPem,
  );
  const names = certificateNames({ url: 'https://127.0.0.1:9443', sni: 'shop.test', hostnames: ['shop.test', 'www.shop.test'] }, current);
  t.deepEqual(names, { commonName: 'shop.test', altNames: ['shop.test', '127.0.0.1', 'www.shop.test', 'localhost'] });
  t.deepEqual(certificateNames({ url: 'https://localhost:8443', hostnames: ['faultline.local'] }), {
    commonName: 'localhost',
    altNames: ['localhost', 'faultline.local'],
  });
  const expired = new X509Certificate(issueBadCertificate('expired', names, ca, now).certPem);
  t.true(new Date(expired.validTo).getTime() < now);
  t.true(expired.checkIssued(new X509Certificate(ca.certPem)));
  t.true(expired.checkHost('www.shop.test') !== undefined);
  const wrong = new X509Certificate(issueBadCertificate('wrong-host', names, ca, now).certPem);
  t.is(wrong.checkHost('shop.test'), undefined);
  t.throws(() => issueBadCertificate('sha1', names, undefined, now), { message: /needs the issuing CA/ });
});

test('checks connect where the endpoint is: its port, localhost as 127.0.0.1, the SNI name', (t) => {
  t.deepEqual(handshakeTarget('https://localhost:8443'), { host: '127.0.0.1', port: 8443, servername: 'localhost' });
  t.deepEqual(handshakeTarget('https://127.0.0.1:9443/', 'shop.test'), { host: '127.0.0.1', port: 9443, servername: 'shop.test' });
  t.deepEqual(handshakeTarget('https://[::1]'), { host: '::1', port: 443, servername: '::1' });
  t.is(loopbackUrl('http://localhost:8080/'), 'http://127.0.0.1:8080');
});
