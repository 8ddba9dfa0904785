'use strict';
// Variant `node`: the Express app in one process; its pg Pool may open all
// DB_POOL connections.
const config = require('./config');
const { createApp, createPool, listen, shutdownOn } = require('./app');

async function main() {
  const cfg = config.load();
  const pool = createPool(cfg.databaseUrl, cfg.dbPool);
  const server = await listen(createApp(pool), cfg);
  shutdownOn(['SIGTERM', 'SIGINT'], server, pool);
  console.log(`node listening on http://${cfg.host}:${cfg.port} (pid ${process.pid}, db pool ${cfg.dbPool})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
