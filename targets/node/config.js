'use strict';
// Environment shared by server.js and cluster.js (see targets/README.md):
// PORT, HOST, DATABASE_URL (required: it carries the per-run database
// password, which has no default in the code), DB_POOL (total connections
// for the whole variant), WORKERS (cluster only).
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

function requiredEnv(name) {
  const value = process.env[name] ?? '';
  if (value === '') {
    throw new Error(`${name} is not set: bakeoff sets it for every target (see targets/targets.toml)`);
  }
  return value;
}

function load() {
  const port = positiveIntEnv('PORT', 3000);
  return {
    port,
    host: process.env.HOST || '127.0.0.1',
    databaseUrl: requiredEnv('DATABASE_URL'),
    dbPool: positiveIntEnv('DB_POOL', DEFAULT_DB_POOL),
    workers: positiveIntEnv('WORKERS', allowedCpus()),
  };
}

module.exports = { load, allowedCpus };
