"""GET /ws/fanout on django-async (targets/API.md): every text message any
client sends is delivered unchanged to every client of the endpoint, the
sender included, each publisher's messages in the order it sent them.

A Channels ``AsyncWebsocketConsumer`` per connection, and one bus per worker
process: the workers broadcast through the private PostgreSQL's
LISTEN/NOTIFY on channel ``bakeoff_fanout`` (``PostgresBus``), the bus
node-cluster uses too, so both stacks pay for the same hop. GET /ws/info
says which.

Why no Channels channel layer: ``channels_postgres`` (the PostgreSQL layer)
stores every message in a table of its own (migrations, a trigger, a row per
group member) and notifies on its own channel, so it would neither share
node-cluster's bus nor cost the same; a group send is also not ordered per
publisher across workers. The broadcaster here is the few lines that bus
needs.

Order: a consumer's ``receive`` calls run one after another (Channels awaits
each), each only queues the text; one task per process sends the queue's
NOTIFYs one after another on one connection, so PostgreSQL commits, and
delivers to every listener, a publisher's messages in its order. Each
listener hears its own notifications too, so local and remote clients get
the same order. Every client has an outbox drained by its own task, so a slow
client delays only itself.

Connections: ``PostgresBus`` opens two per worker, outside DB_POOL (a psycopg
connection cannot wait for notifications and send queries at the same time;
node-cluster's one pg client can): one LISTENs, one NOTIFYs.
"""

import asyncio
import logging
import os

from channels.generic.websocket import AsyncWebsocketConsumer

from . import raw

CHANNEL = raw.FANOUT_CHANNEL
# Every NOTIFY payload is ORIGIN, a newline, then the message: the variants
# share one database (and so the channel) when run side by side, and must not
# hear each other's clients (node-cluster tags its own the same way).
ORIGIN = "django-async"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; the contract
# allows messages up to 7900 bytes (room for the tag), and a longer one is
# refused with close code 1009 rather than silently lost.
MAX_PAYLOAD = 7900

# The body of a plain GET /ws/fanout (426): the same text on every variant
# that offers the endpoint.
PLAIN_GET = "Upgrade Required: /ws/fanout speaks WebSocket only\n"

log = logging.getLogger("bench.fanout")


class MemoryBus:
    """Deliveries within this process: every publish reaches every client."""

    name = "memory"

    def __init__(self):
        self.clients = set()

    async def start(self):
        pass

    def publish(self, text):
        self.deliver(text)

    def deliver(self, text):
        for client in list(self.clients):
            client.outbox.put_nowait(text)


class PostgresBus(MemoryBus):
    """LISTEN/NOTIFY across the worker processes (see the module doc)."""

    name = "postgres"

    def __init__(self, conninfo):
        super().__init__()
        self.conninfo = conninfo
        self.queue = asyncio.Queue()
        self.started = None  # the start task: every connect awaits the same one

    async def start(self):
        if self.started is None:
            self.started = asyncio.ensure_future(self._start())
        # A failed start is retried by the next client.
        try:
            await asyncio.shield(self.started)
        except Exception:
            self.started = None
            raise

    async def _start(self):
        import psycopg

        listener = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        notifier = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        await raw.listen_fanout(listener)
        self._conns = [listener, notifier]
        self._tasks = [
            asyncio.ensure_future(self._listen(listener)),
            asyncio.ensure_future(self._notify(notifier)),
        ]

    async def _listen(self, conn):
        try:
            async for note in conn.notifies():
                origin, nl, text = note.payload.partition("\n")
                if note.channel == CHANNEL and nl and origin == ORIGIN:
                    self.deliver(text)
        except Exception as err:  # the bus is gone: its clients are closed (1011)
            log.error("fan-out bus: LISTEN connection failed: %s", err)
            for client in list(self.clients):
                client.outbox.put_nowait(None)
            # The next client starts a new bus.
            self.started = None
            for task in self._tasks:
                if task is not asyncio.current_task():
                    task.cancel()
            for other in self._conns:
                await other.close()

    async def _notify(self, conn):
        while True:
            text = await self.queue.get()
            try:
                await raw.notify_fanout(conn, f"{ORIGIN}\n{text}")
            except Exception as err:
                log.error("fan-out NOTIFY failed: %s", err)

    def publish(self, text):
        self.queue.put_nowait(text)


def _make_bus():
    # Always PostgreSQL, like node-cluster (also at WORKERS=1, as on a
    # one-CPU run): the two multi-process variants pay the same hop at every
    # worker count. MemoryBus is node's single-process counterpart, used
    # here only by the tests.
    return PostgresBus(os.environ.get("DATABASE_URL", ""))


_bus = None


def bus():
    """This process's bus, made on first use."""
    global _bus
    if _bus is None:
        _bus = _make_bus()
    return _bus


def info():
    """The body of GET /ws/info."""
    return {"bus": bus().name, "offered": True}


class FanoutConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.outbox = asyncio.Queue()
        self.writer = None
        try:
            await bus().start()
        except Exception as err:
            log.error("fan-out bus unavailable: %s", err)
            await self.close()  # before accept: the handshake is refused
            return
        # Registered before the handshake completes: once the client sees
        # the 101 it hears every later publish (queued until the writer runs,
        # which starts after the accept so nothing is sent before it).
        bus().clients.add(self)
        await self.accept()
        self.writer = asyncio.ensure_future(self._write())

    async def _write(self):
        while True:
            text = await self.outbox.get()
            if text is None:
                await self.close(code=1011)
                return
            await self.send(text_data=text)

    async def receive(self, text_data=None, bytes_data=None):
        # Only text messages are part of the contract; binary ones are ignored.
        if text_data is None:
            return
        if len(text_data.encode("utf-8")) > MAX_PAYLOAD:
            await self.close(code=1009)
            return
        bus().publish(text_data)

    async def disconnect(self, code):
        bus().clients.discard(self)
        if getattr(self, "writer", None) is not None:
            self.writer.cancel()


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: the handshake is refused (HTTP 403)."""

    async def connect(self):
        await self.close()
