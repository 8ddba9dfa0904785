'use strict';
// Environment shared by server.js and cluster.js (see targets/README.md):
// PORT, HOST, DATABASE_URL, DB_POOL (total connections for the whole
// variant), WORKERS (cluster only).
const os = require('node:os');

const DEFAULT_DB_POOL = 16;

function positiveIntEnv(name, fallback) {
  const raw = (process.env[name] ?? '').trim();
  if (raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

// CPUs this process may run on. libuv's uv_available_parallelism() reads
// sched_getaffinity on Linux, so taskset/cpuset pinning is respected.
function allowedCpus() {
  return Math.max(1, os.availableParallelism());
}

function load() {
  const port = positiveIntEnv('PORT', 3000);
  return {
    port,
    host: process.env.HOST || '127.0.0.1',
    databaseUrl: process.env.DATABASE_URL || 'postgres://bakeoff:bakeoff@127.0.0.1:5432/bakeoff',
    dbPool: positiveIntEnv('DB_POOL', DEFAULT_DB_POOL),
    workers: positiveIntEnv('WORKERS', allowedCpus()),
  };
}

module.exports = { load, allowedCpus };
