'use strict';
// GET /ws/fanout and /ws/info (fanout.js) over real WebSockets on
// 127.0.0.1:0, on the memory bus (no database; node-cluster's PostgreSQL bus
// is covered by `bakeoff check`). Run: npm test.
const test = require('node:test');
const assert = require('node:assert/strict');
const { WebSocket } = require('ws');
const { createApp, listen } = require('../app');
const { attachFanout, memoryBus } = require('../fanout');

let server;
let wss;
let port;

test.before(async () => {
  const bus = memoryBus();
  server = await listen(createApp({}, bus), { port: 0, host: '127.0.0.1' }, async (srv) => {
    wss = await attachFanout(srv, bus);
  });
  port = server.address().port;
});

test.after(() => {
  for (const ws of wss.clients) ws.terminate();
  server.closeAllConnections();
  server.close();
});

function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/fanout`);
    const heard = [];
    ws.on('message', (data) => heard.push(data.toString('utf8')));
    ws.once('open', () => resolve({ ws, heard }));
    ws.once('error', reject);
  });
}

async function until(cond) {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

test('every client hears every message, sender included, in order per publisher', async () => {
  const a = await connect();
  const b = await connect();
  for (let seq = 0; seq < 5; seq++) a.ws.send(`a${seq}`);
  b.ws.send('b0');
  await until(() => a.heard.length === 6 && b.heard.length === 6);
  for (const c of [a, b]) {
    assert.deepEqual(c.heard.filter((t) => t.startsWith('a')), ['a0', 'a1', 'a2', 'a3', 'a4']);
    assert.ok(c.heard.includes('b0'));
    assert.equal(c.heard.length, 6);
  }
  // A client's close frame is answered (clean close: code 1000 comes back).
  const codes = await Promise.all(
    [a, b].map((c) => new Promise((resolve) => {
      c.ws.once('close', (code) => resolve(code));
      c.ws.close(1000);
    })),
  );
  assert.deepEqual(codes, [1000, 1000]);
});

test('/ws/info names the bus and says the endpoint is offered', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/ws/info`);
  assert.equal(await res.text(), '{"bus":"memory","offered":true}');
});

test('a plain GET /ws/fanout (no upgrade) answers 426 in text', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/ws/fanout`);
  assert.equal(res.status, 426);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await res.text(), 'Upgrade Required: /ws/fanout speaks WebSocket only\n');
});
