'use strict';
// The bakeoff contract (targets/API.md) as an Express 5 app, plus the HTTP
// server settings shared by the single-process and cluster variants.
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const express = require('express');
const Handlebars = require('handlebars');
const { Pool } = require('pg');
const fanout = require('./fanout');

const WORLD_ROWS = 10000;
const MAX_QUERIES = 500;
const MAX_CPU_ROUNDS = 100000;
const MAX_IO_MS = 10000;
const ADDITIONAL_FORTUNE = 'Additional fortune added at request time.';

const fortunesTemplate = Handlebars.compile(
  fs.readFileSync(path.join(__dirname, 'views', 'fortunes.hbs'), 'utf8'),
);

// The last value of a query parameter as an integer, or null when missing or
// not a plain ASCII decimal integer ("12abc", "1.5", " 3" are all null).
function intParam(req, name) {
  let value = req.query[name];
  if (Array.isArray(value)) value = value[value.length - 1];
  if (typeof value !== 'string' || !/^-?[0-9]+$/.test(value)) return null;
  return Number(value);
}

function clamp(value, low, high, fallback) {
  if (value === null) return fallback;
  return Math.max(low, Math.min(high, value));
}

const queryCount = (req) => clamp(intParam(req, 'queries'), 1, MAX_QUERIES, 1);
const randomId = () => 1 + Math.floor(Math.random() * WORLD_ROWS);

// Distinct (every returned value is the persisted one) and ascending
// (concurrent updates lock rows in the same order, so they cannot deadlock).
function distinctSortedIds(count) {
  const ids = new Set();
  while (ids.size < count) ids.add(randomId());
  return [...ids].sort((a, b) => a - b);
}

// A random 1..10000 different from `old`, so an update is observable.
function newRandomNumber(old) {
  const value = 1 + Math.floor(Math.random() * (WORLD_ROWS - 1));
  return value >= old ? value + 1 : value;
}

function cpuDigest(rounds) {
  let digest = Buffer.from('bakeoff', 'ascii');
  for (let i = 0; i < rounds; i++) {
    digest = crypto.createHash('sha256').update(digest).digest();
  }
  return digest.toString('hex');
}

// Named statements: pg prepares each once per connection.
const selectWorld = (id) => ({
  name: 'world-by-id',
  text: 'SELECT id, randomnumber FROM world WHERE id = $1',
  values: [id],
});

async function fetchWorld(pool, id) {
  const { rows } = await pool.query(selectWorld(id));
  if (rows.length !== 1) throw new Error(`world row ${id} not found`);
  return { id: rows[0].id, randomNumber: rows[0].randomnumber };
}

// Deliberate misbehaviour for bakeoff's own tests of `check`'s query
// counting, never set in a benchmark: BAKEOFF_TARGET_FAULT lists (comma
// separated) `cache-db` (/db answers from a copy of the whole world table,
// loaded by the first request) and `n-plus-one-fortunes` (/fortunes reads
// the ids, then each message by its own query).
const FAULTS = new Set((process.env.BAKEOFF_TARGET_FAULT || '').split(',').filter(Boolean));
let worldCache = null;

async function cachedWorld(pool, id) {
  if (worldCache === null) {
    const { rows } = await pool.query('SELECT id, randomnumber FROM world');
    worldCache = new Map(rows.map((r) => [r.id, r.randomnumber]));
  }
  return { id, randomNumber: worldCache.get(id) };
}

async function fortuneRows(pool) {
  if (!FAULTS.has('n-plus-one-fortunes')) {
    const { rows } = await pool.query({ name: 'fortunes', text: 'SELECT id, message FROM fortune' });
    return rows;
  }
  const { rows: ids } = await pool.query('SELECT id FROM fortune');
  return Promise.all(
    ids.map(async ({ id }) => {
      const { rows } = await pool.query('SELECT id, message FROM fortune WHERE id = $1', [id]);
      return rows[0];
    }),
  );
}

function createPool(databaseUrl, max) {
  // idleTimeoutMillis 0: keep connections open between bursts, like Django's
  // persistent connections and fixed-size pool (pg's default closes after 10 s).
  const pool = new Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 0 });
  // An idle client losing its connection must not crash the process.
  pool.on('error', (err) => console.error('pg pool error:', err.message));
  return pool;
}

// `bus`: the fan-out bus of this variant (fanout.js), named by /ws/info.
function createApp(pool, bus) {
  const app = express();
  app.set('etag', false);
  app.disable('x-powered-by');

  app.use((req, res, next) => {
    res.set('Server', 'Express');
    next();
  });

  app.get('/plaintext', (req, res) => {
    res.type('text/plain').send('Hello, World!');
  });

  app.get('/json', (req, res) => {
    res.json({ message: 'Hello, World!' });
  });

  // The database endpoints, also under /raw/ (targets/API.md): Django
  // serves them there with raw SQL beside its ORM; here they are raw SQL
  // already, the same code under both paths.
  const db = async (req, res) => {
    const id = randomId();
    res.json(FAULTS.has('cache-db') ? await cachedWorld(pool, id) : await fetchWorld(pool, id));
  };

  const queries = async (req, res) => {
    const count = queryCount(req);
    const worlds = await Promise.all(
      Array.from({ length: count }, () => fetchWorld(pool, randomId())),
    );
    res.json(worlds);
  };

  const fortunes = async (req, res) => {
    const rows = await fortuneRows(pool);
    rows.push({ id: 0, message: ADDITIONAL_FORTUNE });
    // Code-unit order; equals Python's code-point order for BMP text.
    rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
    res.type('text/html').send(fortunesTemplate({ fortunes: rows }));
  };

  const updates = async (req, res) => {
    const ids = distinctSortedIds(queryCount(req));
    const worlds = await Promise.all(ids.map((id) => fetchWorld(pool, id)));
    for (const world of worlds) world.randomNumber = newRandomNumber(world.randomNumber);
    await pool.query({
      name: 'update-worlds',
      text:
        'UPDATE world SET randomnumber = v.r FROM ' +
        '(SELECT unnest($1::int[]) AS id, unnest($2::int[]) AS r) AS v WHERE world.id = v.id',
      values: [ids, worlds.map((w) => w.randomNumber)],
    });
    res.json(worlds);
  };

  for (const prefix of ['', '/raw']) {
    app.get(`${prefix}/db`, db);
    app.get(`${prefix}/queries`, queries);
    app.get(`${prefix}/fortunes`, fortunes);
    app.get(`${prefix}/updates`, updates);
  }

  app.get('/io', (req, res) => {
    const millis = clamp(intParam(req, 'ms'), 0, MAX_IO_MS, 0);
    // A timer counts from the event loop's cached clock, which can lag
    // the request's arrival by a millisecond, so it may fire early: wait
    // out what is left, so the answer never comes before `millis` passed.
    const start = performance.now();
    const done = () => {
      const left = millis - (performance.now() - start);
      if (left > 0) {
        setTimeout(done, left);
      } else {
        res.json({ slept_ms: millis });
      }
    };
    setTimeout(done, millis);
  });

  app.get('/cpu', (req, res) => {
    const rounds = clamp(intParam(req, 'n'), 1, MAX_CPU_ROUNDS, 1);
    res.json({ rounds, digest: cpuDigest(rounds) });
  });

  // Which bus GET /ws/fanout broadcasts over (targets/API.md).
  app.get('/ws/info', (req, res) => {
    res.json(fanout.info(bus));
  });

  // A handshake never gets here (fanout.js takes the upgrade); a plain GET
  // is told what the endpoint speaks.
  app.get(fanout.PATH, (req, res) => {
    res.status(426).type('text/plain').send(fanout.PLAIN_GET);
  });

  app.use((req, res) => {
    res.status(404).type('text/plain').send('Not Found');
  });

  // Express 5 forwards rejected promises from async handlers here.
  app.use((err, req, res, next) => {
    console.error(`${req.method} ${req.originalUrl}:`, err);
    if (res.headersSent) return next(err);
    res.status(500).type('text/plain').send('Internal Server Error');
  });

  return app;
}

// Start listening; resolves with the http.Server once bound. `prepare`
// (optional) runs on the server before it binds, so what it attaches (the
// /ws/fanout upgrade handler) is there before the first request.
async function listen(app, { port, host }, prepare = async () => {}) {
  const server = http.createServer(app);
  // Keep load-generator connections open for a whole run (Node's default
  // is 5 s); headersTimeout must exceed keepAliveTimeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await prepare(server);
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

// Stop accepting, close idle keep-alive sockets and WebSockets (1001, going
// away), drain the pool and the bus, exit.
function shutdownOn(signals, server, pool, wss, bus) {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 5_000).unref();
    server.close(() => Promise.allSettled([pool.end(), bus.stop()]).finally(() => process.exit(0)));
    server.closeIdleConnections();
    for (const ws of wss.clients) ws.close(1001, 'server shutting down');
  };
  for (const signal of signals) process.on(signal, stop);
}

module.exports = { createApp, createPool, listen, shutdownOn, cpuDigest };
