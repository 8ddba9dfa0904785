"""Sync views (django-sync: WSGI, gunicorn gthread). Each runs in a worker
thread holding that thread's persistent DB connection."""

import time

from django.template import loader

from . import contract, raw
from .models import Fortune, World

_FORTUNES = loader.get_template("fortunes.html")


def plaintext(request):
    return contract.text("Hello, World!")


def json_view(request):
    return contract.json_body({"message": "Hello, World!"})


def db(request):
    return contract.json_body(contract.world_json(World.objects.get(id=contract.random_id())))


def queries(request):
    count = contract.query_count(request)
    worlds = [World.objects.get(id=contract.random_id()) for _ in range(count)]
    return contract.json_body([contract.world_json(w) for w in worlds])


def fortunes(request):
    rows = contract.sorted_fortunes(list(Fortune.objects.all()), Fortune)
    return contract.html(_FORTUNES.render({"fortunes": rows}))


def updates(request):
    ids = contract.distinct_sorted_ids(contract.query_count(request))
    worlds = [World.objects.get(id=i) for i in ids]
    for world in worlds:
        world.randomnumber = contract.new_random_number(world.randomnumber)
    World.objects.bulk_update(worlds, ["randomnumber"])
    return contract.json_body([contract.world_json(w) for w in worlds])


def io(request):
    millis = contract.io_millis(request)
    time.sleep(millis / 1000)  # blocks this thread only, not the CPU
    return contract.json_body({"slept_ms": millis})


def cpu(request):
    rounds = contract.cpu_rounds(request)
    return contract.json_body({"rounds": rounds, "digest": contract.cpu_digest(rounds)})


# Raw-SQL twins (bench/raw.py), under /raw/.


def raw_db(request):
    return contract.json_body(contract.world_json(raw.fetch_world(contract.random_id())))


def raw_queries(request):
    count = contract.query_count(request)
    worlds = [raw.fetch_world(contract.random_id()) for _ in range(count)]
    return contract.json_body([contract.world_json(w) for w in worlds])


def raw_fortunes(request):
    rows = contract.sorted_fortunes(raw.fetch_fortunes(), raw.Row)
    return contract.html(_FORTUNES.render({"fortunes": rows}))


def raw_updates(request):
    ids = contract.distinct_sorted_ids(contract.query_count(request))
    worlds = [raw.fetch_world(i) for i in ids]
    for world in worlds:
        world.randomnumber = contract.new_random_number(world.randomnumber)
    raw.update_worlds(worlds)
    return contract.json_body([contract.world_json(w) for w in worlds])


# Real-time (targets/API.md, "Real-time: GET /ws/fanout"): WSGI hands the
# app a request and takes back a response, so a worker cannot hold an
# upgraded connection. django-sync says so rather than fake it
# (targets/README.md, "WebSockets on django-sync").
WS_NOT_OFFERED = "WSGI cannot hold a WebSocket; run django-async (Channels) for real-time"


def ws_fanout(request):
    """426 Upgrade Required, to a WebSocket handshake or any other GET."""
    return contract.text(f"Upgrade Required: {WS_NOT_OFFERED}\n", status=426)


def ws_info(request):
    return contract.json_body({"bus": None, "offered": False, "reason": WS_NOT_OFFERED})
