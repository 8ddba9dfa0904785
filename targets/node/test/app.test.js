'use strict';
// Contract tests for the Express app over real HTTP on 127.0.0.1:0, with a
// fake pg pool (no database). Run: npm test (node --test). Bodies that must be
// identical across targets are compared with the fixtures in ../testdata,
// which the Django tests compare against too.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { createApp, listen } = require('../app');

const testdata = path.join(__dirname, '..', '..', 'testdata');
const FORTUNES = JSON.parse(fs.readFileSync(path.join(testdata, 'fortunes.json'), 'utf8'));
const FORTUNES_HTML = fs.readFileSync(path.join(testdata, 'fortunes.html'), 'utf8');

// Stands in for pg.Pool: answers the app's named statements, records updates.
function fakePool() {
  const worlds = new Map();
  return {
    worlds,
    updates: [],
    async query(q) {
      if (q.name === 'world-by-id') {
        const id = q.values[0];
        if (!worlds.has(id)) worlds.set(id, 1 + (id % 10000));
        return { rows: [{ id, randomnumber: worlds.get(id) }] };
      }
      if (q.name === 'fortunes') return { rows: FORTUNES.map((f) => ({ ...f })) };
      if (q.name === 'update-worlds') {
        const [ids, values] = q.values;
        this.updates.push({ ids, values });
        ids.forEach((id, i) => worlds.set(id, values[i]));
        return { rows: [] };
      }
      throw new Error(`unexpected query ${JSON.stringify(q)}`);
    },
  };
}

let server;
let base;
let pool;

test.before(async () => {
  pool = fakePool();
  server = await listen(createApp(pool), { port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${server.address().port}`;
});

test.after(() => {
  server.closeAllConnections();
  server.close();
});

async function get(p) {
  const res = await fetch(base + p);
  return { res, body: await res.text() };
}

test('plaintext: body and required headers', async () => {
  const { res, body } = await get('/plaintext');
  assert.equal(res.status, 200);
  assert.equal(body, 'Hello, World!');
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(res.headers.get('content-length'), '13');
  assert.equal(res.headers.get('server'), 'Express');
  assert.ok(res.headers.get('date'));
  assert.equal(res.headers.get('etag'), null);
  assert.equal(res.headers.get('x-powered-by'), null);
});

test('json: compact body', async () => {
  const { res, body } = await get('/json');
  assert.equal(body, '{"message":"Hello, World!"}');
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
});

test('unknown path: plain 404', async () => {
  const { res, body } = await get('/no/such/path');
  assert.equal(res.status, 404);
  assert.equal(body, 'Not Found');
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
});

test('queries: clamp and default', async () => {
  const cases = [
    ['', 1], ['?queries=abc', 1], ['?queries=0', 1], ['?queries=-5', 1], ['?queries=12abc', 1],
    ['?queries=1.5', 1], ['?queries=7', 7], ['?queries=9999', 500], ['?queries=2&queries=4', 4],
  ];
  for (const [query, expected] of cases) {
    const { body } = await get(`/queries${query}`);
    const rows = JSON.parse(body);
    assert.equal(rows.length, expected, `/queries${query}`);
    for (const row of rows) assert.deepEqual(Object.keys(row), ['id', 'randomNumber']);
  }
});

test('db: one world object', async () => {
  const row = JSON.parse((await get('/db')).body);
  assert.deepEqual(Object.keys(row), ['id', 'randomNumber']);
  assert.ok(row.id >= 1 && row.id <= 10000);
});

test('cpu: digest chain and clamp', async () => {
  const one = JSON.parse((await get('/cpu?n=1')).body);
  assert.deepEqual(one, {
    rounds: 1,
    digest: crypto.createHash('sha256').update('bakeoff').digest('hex'),
  });
  const thousand = JSON.parse((await get('/cpu?n=1000')).body);
  assert.equal(thousand.digest, '78179f3472b13f3021445915990d594982e3e889edcd70c80d3fa2b93f297ffe');
  assert.equal(JSON.parse((await get('/cpu?n=0')).body).rounds, 1);
  assert.equal(JSON.parse((await get('/cpu?n=999999')).body).rounds, 100000);
});

test('io: clamp and waits at least the requested time', async () => {
  assert.equal((await get('/io?ms=-3')).body, '{"slept_ms":0}');
  assert.equal((await get('/io?ms=abc')).body, '{"slept_ms":0}');
  const started = process.hrtime.bigint();
  assert.equal((await get('/io?ms=30')).body, '{"slept_ms":30}');
  assert.ok(process.hrtime.bigint() - started >= 30_000_000n);
});

test('fortunes: escaped, sorted, identical to the shared fixture', async () => {
  const { res, body } = await get('/fortunes');
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(body, FORTUNES_HTML);
});

test('updates: distinct ascending ids, changed values, persisted as returned', async () => {
  const before = pool.updates.length;
  const rows = JSON.parse((await get('/updates?queries=20')).body);
  assert.equal(rows.length, 20);
  const ids = rows.map((r) => r.id);
  assert.equal(new Set(ids).size, 20);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(pool.updates.length, before + 1);
  const update = pool.updates.at(-1);
  assert.deepEqual(update.ids, ids);
  assert.deepEqual(update.values, rows.map((r) => r.randomNumber));
  for (const row of rows) {
    assert.ok(row.randomNumber >= 1 && row.randomNumber <= 10000);
    assert.notEqual(row.randomNumber, 1 + (row.id % 10000), 'value must change');
  }
});

// A pool whose every query fails the way a lost database does; `sync` throws
// instead of rejecting. The marker must never reach a response.
const FAILURE_MARKER = 'secret-internal-failure-marker';
function failingPool(sync) {
  return {
    query() {
      const err = new Error(`${FAILURE_MARKER} at /srv/app.js:1:1`);
      if (sync) throw err;
      return Promise.reject(err);
    },
  };
}

test('a failing route answers a plain 500: no stack trace, no error text', async () => {
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args);
  try {
    for (const sync of [false, true]) {
      const failing = await listen(createApp(failingPool(sync)), { port: 0, host: '127.0.0.1' });
      try {
        const url = `http://127.0.0.1:${failing.address().port}`;
        for (const p of ['/db', '/queries?queries=3', '/fortunes', '/updates?queries=2']) {
          const res = await fetch(url + p);
          const body = await res.text();
          assert.equal(res.status, 500, p);
          assert.equal(body, 'Internal Server Error', p);
          assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8', p);
          assert.ok(!body.includes(FAILURE_MARKER) && !/\bat \S+:\d+/.test(body), p);
        }
      } finally {
        failing.closeAllConnections();
        failing.close();
      }
    }
  } finally {
    console.error = original;
  }
  // The error goes to the log instead.
  assert.ok(logged.some((args) => String(args[1]).includes(FAILURE_MARKER)));
});

test('malformed parameters and paths never produce a stack trace', async () => {
  const probes = [
    '/queries?queries=%', '/queries?queries=%E0%A4%A', '/queries?queries[a]=1',
    '/cpu?n=1e400', '/io?ms=%00', '/%E0%A4%A', '/db/%', '/..%2f..%2fetc/passwd',
  ];
  for (const p of probes) {
    const { res, body } = await get(p);
    assert.ok(res.status < 500, `${p}: ${res.status}`);
    assert.ok(!/\bat \S+:\d+|Error:|node_modules/.test(body), `${p}: ${body}`);
  }
});

// Every statement the app sends must be one of these constant texts; request
// input may only reach the database as bound, clamped integers.
const STATEMENTS = new Set([
  'SELECT id, randomnumber FROM world WHERE id = $1',
  'SELECT id, message FROM fortune',
  'UPDATE world SET randomnumber = v.r FROM ' +
    '(SELECT unnest($1::int[]) AS id, unnest($2::int[]) AS r) AS v WHERE world.id = v.id',
]);

test('SQL: constant statements, request input bound only as clamped integers', async () => {
  const inner = fakePool();
  const seen = [];
  const recording = {
    query(q) {
      seen.push(q);
      return inner.query(q);
    },
  };
  const app = await listen(createApp(recording), { port: 0, host: '127.0.0.1' });
  try {
    const url = `http://127.0.0.1:${app.address().port}`;
    const hostile = [
      "1;DROP TABLE world", "1' OR '1'='1", '3)--', '2&queries=1;DELETE FROM fortune',
      '9999999999999999999999', '-1 UNION SELECT 1',
    ];
    for (const path of ['/db', '/queries', '/updates', '/fortunes']) {
      for (const h of hostile) {
        const res = await fetch(`${url}${path}?queries=${encodeURIComponent(h)}&id=${encodeURIComponent(h)}`);
        assert.equal(res.status, 200, `${path} ${h}`);
        await res.text();
      }
    }
  } finally {
    app.closeAllConnections();
    app.close();
  }
  assert.ok(seen.length > 0);
  const isId = (v) => Number.isInteger(v) && v >= 1 && v <= 10000;
  for (const q of seen) {
    assert.equal(typeof q, 'object', 'queries are named statement objects');
    assert.ok(STATEMENTS.has(q.text), q.text);
    for (const v of q.values ?? []) {
      assert.ok(Array.isArray(v) ? v.every(isId) : isId(v), JSON.stringify(q.values));
    }
  }
});

test('config: DATABASE_URL is required, no built-in credentials', () => {
  const config = require('../config');
  const saved = process.env.DATABASE_URL;
  try {
    delete process.env.DATABASE_URL;
    assert.throws(() => config.load(), /DATABASE_URL is not set/);
    process.env.DATABASE_URL = 'postgres://u:from-env-pw@127.0.0.1:1/d';
    assert.equal(config.load().databaseUrl, 'postgres://u:from-env-pw@127.0.0.1:1/d');
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
  const sources = ['app.js', 'config.js', 'server.js', 'cluster.js']
    .map((f) => fs.readFileSync(path.join(__dirname, '..', f), 'utf8'))
    .join('\n');
  assert.ok(!/postgres(ql)?:\/\/[^\s'"`$]*:[^\s'"`$@]*@/.test(sources), 'a credential in the code');
});

test('raw: the database endpoints answer the same under /raw/', async () => {
  assert.equal((await get('/raw/fortunes')).body, FORTUNES_HTML);
  assert.deepEqual(Object.keys(JSON.parse((await get('/raw/db')).body)), ['id', 'randomNumber']);
  assert.equal(JSON.parse((await get('/raw/queries?queries=7')).body).length, 7);
  const before = pool.updates.length;
  assert.equal(JSON.parse((await get('/raw/updates?queries=3')).body).length, 3);
  assert.equal(pool.updates.length, before + 1);
});
