"""Framework-neutral pieces of the contract shared by sync and async views:
query-parameter clamps, the /cpu digest, id sampling and response builders.

Every response carries an explicit Content-Length (no middleware adds one)
and the exact Content-Type strings documented in targets/API.md.
"""

import hashlib
import json
import random
import re

from django.http import HttpResponse

WORLD_ROWS = 10000
MAX_QUERIES = 500
MAX_CPU_ROUNDS = 100000
MAX_IO_MS = 10000
ADDITIONAL_FORTUNE = "Additional fortune added at request time."

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"

# ASCII digits only, whole string (re.fullmatch; \d would accept other scripts).
_INTEGER = re.compile(r"-?[0-9]+")


def int_param(request, name):
    """The last ``name`` query value as an int, or None if missing/non-numeric."""
    values = request.GET.getlist(name)
    if not values or not _INTEGER.fullmatch(values[-1]):
        return None
    return int(values[-1])


def clamp(value, low, high, default):
    if value is None:
        return default
    return max(low, min(high, value))


def query_count(request):
    """/queries and /updates: missing, non-numeric or < 1 -> 1; > 500 -> 500."""
    return clamp(int_param(request, "queries"), 1, MAX_QUERIES, 1)


def cpu_rounds(request):
    return clamp(int_param(request, "n"), 1, MAX_CPU_ROUNDS, 1)


def io_millis(request):
    return clamp(int_param(request, "ms"), 0, MAX_IO_MS, 0)


def cpu_digest(rounds):
    """SHA-256 applied ``rounds`` times, starting from ASCII ``bakeoff``."""
    digest = b"bakeoff"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def random_id():
    return random.randint(1, WORLD_ROWS)


def distinct_sorted_ids(count):
    """Ids for /updates: distinct (so every returned value is the persisted
    one) and ascending (so concurrent updates lock rows in the same order)."""
    return sorted(random.sample(range(1, WORLD_ROWS + 1), count))


def new_random_number(old):
    """A random 1..10000 different from ``old``, so an update is observable."""
    value = random.randint(1, WORLD_ROWS - 1)
    return value + 1 if value >= old else value


def world_json(world):
    return {"id": world.id, "randomNumber": world.randomnumber}


def sorted_fortunes(fortunes, fortune_class):
    fortunes.append(fortune_class(id=0, message=ADDITIONAL_FORTUNE))
    fortunes.sort(key=lambda f: f.message)  # code-point order, same as Node's
    return fortunes


def _respond(body, content_type, status=200):
    response = HttpResponse(body, content_type=content_type, status=status)
    response.headers["Content-Length"] = str(len(response.content))
    return response


def text(body, status=200):
    return _respond(body.encode("utf-8"), TEXT, status)


def json_body(obj):
    """Compact JSON, serialized per request, identical bytes to Node's."""
    return _respond(
        json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), JSON
    )


def html(body):
    return _respond(body.encode("utf-8"), HTML)


def not_found(request, exception=None):
    """handler404 for both urlconfs: same plain body as Node."""
    return text("Not Found", status=404)


def server_error(request):
    return text("Internal Server Error", status=500)
