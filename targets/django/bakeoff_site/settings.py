"""Settings for the bakeoff Django target.

One project, two variants, chosen by ``DJANGO_MODE``:

- ``sync``: WSGI under gunicorn gthread workers, sync views, one persistent
  connection per thread (``CONN_MAX_AGE=None``).
- ``async``: ASGI under gunicorn with uvicorn workers, ``async def`` views on
  the async ORM, psycopg's connection pool (Django 5.1+) per worker.

Production-style: DEBUG off (always: there is no switch), no middleware,
no sessions/auth/admin, no access log; errors answer the contract's plain
404/500 bodies, never a traceback. Connection budget arithmetic lives in
``budget.py``.

Secrets come only from the environment, with no default in the code:
``SECRET_KEY`` and the database password inside ``DATABASE_URL``. bakeoff
draws both at random for every local run; docker-compose.yml takes them
from the environment.
"""

import os
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from . import budget

try:
    MODE = budget.mode()
    CONNECTIONS_PER_WORKER = budget.connections_per_worker()
except ValueError as err:
    raise ImproperlyConfigured(str(err)) from None



def _required_env(name):
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set: bakeoff sets it for every target (see targets/targets.toml)"
        )
    return value


# No sessions, signing or password hashing use it yet; still never a constant.
SECRET_KEY = _required_env("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = ["bench"]
MIDDLEWARE = []
ROOT_URLCONF = "bench.urls_async" if MODE == "async" else "bench.urls_sync"
WSGI_APPLICATION = "bakeoff_site.wsgi.application"
ASGI_APPLICATION = "bakeoff_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,  # with DEBUG off, Django wraps loaders in the cached loader
        "OPTIONS": {"autoescape": True},
    }
]


def _database(url):
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL must be postgres://..., got scheme {parts.scheme!r}")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL has no database name")
    db = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
    }
    if MODE == "sync":
        # Each gthread thread keeps its own connection open for its lifetime.
        db["CONN_MAX_AGE"] = None
    else:
        # Pooling requires CONN_MAX_AGE=0: connections go back to the pool at
        # the end of each request. Fixed size (min == max): the ceiling is this
        # worker's share of DB_POOL and no connection is opened mid-measurement.
        db["CONN_MAX_AGE"] = 0
        db["OPTIONS"] = {
            "pool": {
                "min_size": CONNECTIONS_PER_WORKER,
                "max_size": CONNECTIONS_PER_WORKER,
                "timeout": 30,
            }
        }
    return db


DATABASES = {"default": _database(_required_env("DATABASE_URL"))}

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
USE_I18N = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    # With DEBUG off Django would only mail 500s to ADMINS; print them instead.
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}
