'use strict';
// Variant `node-cluster`: the same app in WORKERS processes (default: the CPUs
// this process may run on) sharing one listening socket through node:cluster.
// Each worker's pg Pool gets floor(DB_POOL / WORKERS) connections (at least 1);
// /ws/fanout broadcasts across workers through PostgreSQL LISTEN/NOTIFY.
const cluster = require('node:cluster');
const config = require('./config');
const { createApp, createPool, listen, shutdownOn } = require('./app');
const { attachFanout, postgresBus } = require('./fanout');

// Re-fork a crashed worker, but give up rather than loop forever.
const MAX_RESTARTS = 10;

function runPrimary(cfg) {
  let restarts = 0;
  let stopping = false;
  for (let i = 0; i < cfg.workers; i++) cluster.fork();

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers).length === 0) process.exit(0);
      return;
    }
    console.error(`worker ${worker.process.pid} exited (code ${code}, signal ${signal})`);
    if (restarts++ < MAX_RESTARTS) {
      cluster.fork();
    } else {
      console.error('too many worker restarts; stopping');
      process.exit(1);
    }
  });

  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 7_000).unref();
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    if (Object.keys(cluster.workers).length === 0) process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const perWorker = Math.max(1, Math.floor(cfg.dbPool / cfg.workers));
  console.log(
    `node-cluster primary ${process.pid}: ${cfg.workers} workers on http://${cfg.host}:${cfg.port} ` +
      `(db pool ${perWorker} per worker)`,
  );
}

async function runWorker(cfg) {
  const pool = createPool(cfg.databaseUrl, Math.max(1, Math.floor(cfg.dbPool / cfg.workers)));
  // /ws/fanout crosses workers over PostgreSQL LISTEN/NOTIFY: one more
  // connection per worker, outside the pool (targets/README.md).
  const bus = postgresBus(cfg.databaseUrl);
  let wss;
  const server = await listen(createApp(pool, bus), cfg, async (srv) => {
    wss = await attachFanout(srv, bus);
  });
  // The primary relays SIGTERM; a terminal's SIGINT reaches the whole group.
  shutdownOn(['SIGTERM', 'SIGINT'], server, pool, wss, bus);
}

const cfg = config.load();
if (cluster.isPrimary) {
  runPrimary(cfg);
} else {
  runWorker(cfg).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
