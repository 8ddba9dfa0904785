"""Async views (django-async: ASGI, uvicorn workers), written ``async def`` on
the async ORM. Connections come from the per-worker psycopg pool."""

import asyncio

from asgiref.sync import sync_to_async

from django.template import loader

from . import contract, fanout, raw
from .models import Fortune, World

_FORTUNES = loader.get_template("fortunes.html")


async def plaintext(request):
    return contract.text("Hello, World!")


async def json_view(request):
    return contract.json_body({"message": "Hello, World!"})


async def db(request):
    world = await World.objects.aget(id=contract.random_id())
    return contract.json_body(contract.world_json(world))


async def queries(request):
    count = contract.query_count(request)
    worlds = [await World.objects.aget(id=contract.random_id()) for _ in range(count)]
    return contract.json_body([contract.world_json(w) for w in worlds])


async def fortunes(request):
    rows = contract.sorted_fortunes([f async for f in Fortune.objects.all()], Fortune)
    return contract.html(_FORTUNES.render({"fortunes": rows}))


async def updates(request):
    ids = contract.distinct_sorted_ids(contract.query_count(request))
    worlds = [await World.objects.aget(id=i) for i in ids]
    for world in worlds:
        world.randomnumber = contract.new_random_number(world.randomnumber)
    await World.objects.abulk_update(worlds, ["randomnumber"])
    return contract.json_body([contract.world_json(w) for w in worlds])


async def io(request):
    millis = contract.io_millis(request)
    await asyncio.sleep(millis / 1000)  # yields the event loop
    return contract.json_body({"slept_ms": millis})


async def cpu(request):
    rounds = contract.cpu_rounds(request)
    return contract.json_body({"rounds": rounds, "digest": contract.cpu_digest(rounds)})


# Raw-SQL twins (bench/raw.py), under /raw/: one sync_to_async call per
# query, as the async ORM makes.
_fetch_world = sync_to_async(raw.fetch_world)
_fetch_fortunes = sync_to_async(raw.fetch_fortunes)
_update_worlds = sync_to_async(raw.update_worlds)


async def raw_db(request):
    world = await _fetch_world(contract.random_id())
    return contract.json_body(contract.world_json(world))


async def raw_queries(request):
    count = contract.query_count(request)
    worlds = [await _fetch_world(contract.random_id()) for _ in range(count)]
    return contract.json_body([contract.world_json(w) for w in worlds])


async def raw_fortunes(request):
    rows = contract.sorted_fortunes(await _fetch_fortunes(), raw.Row)
    return contract.html(_FORTUNES.render({"fortunes": rows}))


async def raw_updates(request):
    ids = contract.distinct_sorted_ids(contract.query_count(request))
    worlds = [await _fetch_world(i) for i in ids]
    for world in worlds:
        world.randomnumber = contract.new_random_number(world.randomnumber)
    await _update_worlds(worlds)
    return contract.json_body([contract.world_json(w) for w in worlds])


async def ws_info(request):
    """Which bus GET /ws/fanout broadcasts over (bench/fanout.py)."""
    return contract.json_body(fanout.info())


async def ws_fanout(request):
    """A plain GET /ws/fanout (a handshake is routed to the consumer by
    bakeoff_site/asgi.py and never gets here): 426, in text."""
    return contract.text(fanout.PLAIN_GET, status=426)
