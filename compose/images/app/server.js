// faultline reference app server: health, who-am-I, reads from the replica (falling back to the primary),
// writes to the primary answered only after the commit, with the row's id.
'use strict';
const fs = require('fs');
const http = require('http');
const mysql = require('mysql');

const SERVER = process.env.SERVER_NAME || 'unknown';
const PORT = Number(process.env.PORT || 3000);
const QUERY_TIMEOUT_MS = Number(process.env.QUERY_TIMEOUT_MS || 2000);

// DB_TLS_CA (hardened profile): the database session runs over TLS, the server's certificate verified against
// this CA for the address dialled; without it the session is plaintext (the design's weakness 1).
const tlsCa = process.env.DB_TLS_CA ? fs.readFileSync(process.env.DB_TLS_CA, 'utf8') : null;

function pool(host) {
  return mysql.createPool({
    ...(tlsCa ? { ssl: { ca: tlsCa, rejectUnauthorized: true } } : {}),
    host,
    port: 3306,
    user: 'app',
    password: process.env.DB_APP_PASSWORD,
    database: 'faultline',
    connectionLimit: 32,
    connectTimeout: 1000,
    acquireTimeout: 1500,
    waitForConnections: true,
    queueLimit: 500,
  });
}

const primary = pool(process.env.DB_PRIMARY_HOST);
const replica = pool(process.env.DB_REPLICA_HOST);

function query(p, sql, args) {
  return new Promise((resolve, reject) => {
    p.query({ sql, values: args, timeout: QUERY_TIMEOUT_MS }, (err, rows) => (err ? reject(err) : resolve(rows)));
  });
}

function send(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'x-served-by': SERVER });
  res.end(data);
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) reject(Object.assign(new Error('body too large'), { status: 413 }));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readItem(where, value) {
  const sql = `SELECT id, item_key AS \`key\`, value, server, created_at AS createdAt FROM items WHERE ${where} = ?`;
  let replicaError;
  try {
    const rows = await query(replica, sql, [value]);
    if (rows.length) return { item: rows[0], from: 'replica' };
  } catch (err) {
    replicaError = err;
  }
  try {
    const rows = await query(primary, sql, [value]);
    return rows.length ? { item: rows[0], from: 'primary' } : { item: null };
  } catch (err) {
    if (replicaError) throw err;
    return { item: null };
  }
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://app');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok', server: SERVER });
  if (req.method === 'GET' && (path === '/whoami' || path === '/')) return send(res, 200, { server: SERVER });
  if (req.method === 'POST' && path === '/items') {
    let body;
    try {
      body = JSON.parse((await readBody(req, 16384)) || '{}');
    } catch (err) {
      return send(res, err.status || 400, { error: 'body must be JSON: {"key": "...", "value": "..."}' });
    }
    const key = typeof body.key === 'string' ? body.key : '';
    if (!key || key.length > 128) return send(res, 400, { error: 'key: a string of 1..128 characters is required' });
    const value = typeof body.value === 'string' ? body.value.slice(0, 1024) : '';
    try {
      // autocommit: the insert is committed (and, with sync_binlog=1, durable) before the callback runs.
      const result = await query(primary, 'INSERT INTO items (item_key, value, server) VALUES (?, ?, ?)', [key, value, SERVER]);
      return send(res, 201, { id: result.insertId, key, server: SERVER });
    } catch (err) {
      if (err.code === 'ER_DUP_ENTRY') return send(res, 409, { error: 'duplicate key', key });
      return send(res, 503, { error: 'primary unavailable', code: err.code || 'ERROR' });
    }
  }
  const m = /^\/items\/(\d+)$/.exec(path);
  if (req.method === 'GET' && (m || (path === '/items' && url.searchParams.has('key')))) {
    try {
      const { item, from } = m ? await readItem('id', m[1]) : await readItem('item_key', url.searchParams.get('key'));
      if (!item) return send(res, 404, { error: 'not found' });
      return send(res, 200, { ...item, readFrom: from });
    } catch (err) {
      return send(res, 503, { error: 'database unavailable', code: err.code || 'ERROR' });
    }
  }
  return send(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 500, { error: String(err && err.message) }));
});
server.keepAliveTimeout = 65000;
server.listen(PORT, '127.0.0.1', () => console.log(`app ${SERVER} listening on 127.0.0.1:${PORT}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
