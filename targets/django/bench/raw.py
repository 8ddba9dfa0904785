"""The database endpoints in raw SQL through Django's own connection
(``connection.cursor()``), the twins of the ORM views under ``/raw/``
(targets/API.md): the same SQL Node sends, the same connections (django-sync's
per-thread persistent ones, django-async's pool), the same contract. They
exist so that the ORM's own cost can be measured inside one Django variant.
The /ws/fanout bus's LISTEN and NOTIFY statements are here too (at the end).

The async views call these through ``sync_to_async``, one call per query,
exactly as Django's async ORM (``aget``, ``abulk_update``) runs each query.
"""

from types import SimpleNamespace

from django.db import connection

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = %s"
SELECT_FORTUNES = "SELECT id, message FROM fortune"
UPDATE_WORLDS = (
    "UPDATE world SET randomnumber = v.r FROM "
    "(SELECT unnest(%s::int[]) AS id, unnest(%s::int[]) AS r) AS v WHERE world.id = v.id"
)


class Row(SimpleNamespace):
    """A row with attributes, shaped like the models (``id``, ``randomnumber``
    or ``message``), so the contract helpers and the template take either."""


def fetch_world(world_id):
    with connection.cursor() as cursor:
        cursor.execute(SELECT_WORLD, [world_id])
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"world row {world_id} not found")
    return Row(id=row[0], randomnumber=row[1])


def fetch_fortunes():
    with connection.cursor() as cursor:
        cursor.execute(SELECT_FORTUNES)
        return [Row(id=i, message=m) for i, m in cursor.fetchall()]


def update_worlds(worlds):
    """One statement for every row, as Node's (TechEmpower allows batching
    the writes; the reads stay one query per row)."""
    ids, numbers = [w.id for w in worlds], [w.randomnumber for w in worlds]
    with connection.cursor() as cursor:
        cursor.execute(UPDATE_WORLDS, [ids, numbers])


# The /ws/fanout bus (bench/fanout.py) on its own psycopg connections, outside
# Django's: only its statements live here, with the other raw SQL.
FANOUT_CHANNEL = "bakeoff_fanout"
LISTEN_FANOUT = "LISTEN " + FANOUT_CHANNEL
NOTIFY_FANOUT = "SELECT pg_notify(%s, %s)"


async def listen_fanout(conn):
    await conn.execute(LISTEN_FANOUT)


async def notify_fanout(conn, payload):
    await conn.execute(NOTIFY_FANOUT, (FANOUT_CHANNEL, payload))
