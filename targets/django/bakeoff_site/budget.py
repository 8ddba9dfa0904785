"""Process/thread/connection budget for the Django variants, read from env.

Shared by gunicorn.conf.py (master: how many workers and threads) and
settings.py (each worker: how many DB connections), so both agree on the same
arithmetic. targets/README.md documents it. Environment:

- ``DB_POOL``: total PostgreSQL connections the whole variant may open
  (default 16). Every variant divides the same budget across its processes.
- ``WORKERS``: gunicorn worker processes. Default: sync ``2*cpus+1`` (gunicorn's
  advice for its threaded workers), async ``cpus`` (one event loop per CPU);
  never more than ``DB_POOL`` so every worker has at least one connection.
- ``THREADS``: gthread threads per sync worker. Default ``DB_POOL // WORKERS``:
  every thread keeps one persistent connection, so threads are the budget.

``cpus`` is the number of CPUs this process may run on (sched affinity), not
the machine's CPU count, so ``taskset``/cpuset pinning is respected.
"""

import os

DEFAULT_DB_POOL = 16


def _positive_int_env(name, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


def mode():
    """``sync`` (WSGI, gthread) or ``async`` (ASGI, uvicorn workers)."""
    value = os.environ.get("DJANGO_MODE", "sync").strip() or "sync"
    if value not in ("sync", "async"):
        raise ValueError(f"DJANGO_MODE must be 'sync' or 'async', got {value!r}")
    return value


def allowed_cpus():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def db_pool():
    return _positive_int_env("DB_POOL", DEFAULT_DB_POOL)


def workers():
    cpus = allowed_cpus()
    default = 2 * cpus + 1 if mode() == "sync" else cpus
    return _positive_int_env("WORKERS", min(default, db_pool()))


def threads():
    """gthread threads per sync worker (1 for async: the event loop)."""
    if mode() == "async":
        return 1
    return _positive_int_env("THREADS", max(1, db_pool() // workers()))


def connections_per_worker():
    """Upper bound on DB connections one worker process opens."""
    if mode() == "sync":
        return threads()
    return max(1, db_pool() // workers())
