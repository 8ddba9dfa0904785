'use strict';
// Variant `node`: the Express app in one process; its pg Pool may open all
// DB_POOL connections. /ws/fanout broadcasts in memory (fanout.js).
const config = require('./config');
const { createApp, createPool, listen, shutdownOn } = require('./app');
const { attachFanout, memoryBus } = require('./fanout');

async function main() {
  const cfg = config.load();
  const pool = createPool(cfg.databaseUrl, cfg.dbPool);
  const bus = memoryBus();
  let wss;
  const server = await listen(createApp(pool, bus), cfg, async (srv) => {
    wss = await attachFanout(srv, bus);
  });
  shutdownOn(['SIGTERM', 'SIGINT'], server, pool, wss, bus);
  console.log(`node listening on http://${cfg.host}:${cfg.port} (pid ${process.pid}, db pool ${cfg.dbPool})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
