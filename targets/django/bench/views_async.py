"""Async views (django-async: ASGI, uvicorn workers), written ``async def`` on
the async ORM. Connections come from the per-worker psycopg pool."""

import asyncio

from django.template import loader

from . import contract
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
