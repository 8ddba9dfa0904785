'use strict';
// GET /ws/fanout (targets/API.md): every text message any client sends is
// delivered unchanged to every client of the endpoint, the sender included.
// One process broadcasts in memory (`memoryBus`); the processes of
// node-cluster broadcast through PostgreSQL LISTEN/NOTIFY (`postgresBus`),
// the bus the multi-worker Django variants use too. GET /ws/info says which.
const { WebSocketServer, WebSocket } = require('ws');
const { Client } = require('pg');

const PATH = '/ws/fanout';
// The body of a plain GET /ws/fanout (426): the same text on every variant
// that offers the endpoint.
const PLAIN_GET = 'Upgrade Required: /ws/fanout speaks WebSocket only\n';
const CHANNEL = 'bakeoff_fanout';
// Every NOTIFY payload is ORIGIN, a newline, then the message: the variants
// share one database (and so the channel) when run side by side, and must
// not hear each other's clients (django-async tags its own the same way).
const ORIGIN = 'node-cluster';
// PostgreSQL rejects a NOTIFY payload of 8000 bytes or more; the contract
// allows messages up to 7900 bytes (room for the tag), and a longer one is
// refused with close code 1009 rather than silently lost.
const MAX_PAYLOAD = 7900;

// Deliveries within this process: every publish reaches every local socket.
function memoryBus() {
  let deliver = () => {};
  return {
    name: 'memory',
    maxPayload: 16 * 1024 * 1024,
    onMessage(fn) {
      deliver = fn;
    },
    async start() {},
    publish(text) {
      deliver(text);
    },
    async stop() {},
  };
}

// One dedicated connection per process (outside DB_POOL): it LISTENs, and
// every publish is a NOTIFY on it, so a publisher's messages are notified in
// the order it sent them (pg runs a client's queries one after the other and
// PostgreSQL delivers notifications in commit order). Each process hears its
// own notifications too, so local clients get the same order as remote ones.
function postgresBus(databaseUrl) {
  const client = new Client({ connectionString: databaseUrl });
  let deliver = () => {};
  return {
    name: 'postgres',
    maxPayload: MAX_PAYLOAD,
    onMessage(fn) {
      deliver = fn;
    },
    async start() {
      client.on('error', (err) => console.error('fan-out bus error:', err.message));
      client.on('notification', (msg) => {
        const payload = msg.payload ?? '';
        const nl = payload.indexOf('\n');
        if (msg.channel === CHANNEL && nl >= 0 && payload.slice(0, nl) === ORIGIN) {
          deliver(payload.slice(nl + 1));
        }
      });
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    },
    publish(text) {
      const payload = `${ORIGIN}\n${text}`;
      client
        .query('SELECT pg_notify($1, $2)', [CHANNEL, payload])
        .catch((err) => console.error('fan-out NOTIFY failed:', err.message));
    },
    async stop() {
      await client.end().catch(() => {});
    },
  };
}

// Attach the endpoint to an http.Server; resolves once the bus listens.
async function attachFanout(server, bus) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: bus.maxPayload, perMessageDeflate: false });
  bus.onMessage((text) => {
    for (const ws of wss.clients) {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    }
  });
  await bus.start();
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      // Only text messages are part of the contract; binary ones are ignored.
      if (!isBinary) bus.publish(data.toString('utf8'));
    });
    ws.on('error', () => ws.terminate());
  });
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url || '').split('?')[0];
    if (path !== PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  return wss;
}

// The body of GET /ws/info.
const info = (bus) => ({ bus: bus.name, offered: true });

module.exports = { attachFanout, memoryBus, postgresBus, info, PATH, PLAIN_GET };
