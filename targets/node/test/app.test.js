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
  assert.ok(process.hrtime.bigint() - started >= 29_000_000n);
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
