"""ASGI entry point (django-async variant: gunicorn with uvicorn workers).

HTTP goes to Django; WebSockets to Channels: ``/ws/fanout`` is
``bench.fanout.FanoutConsumer`` (targets/API.md), any other path is refused.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bakeoff_site.settings")
# Django first: it sets up the apps the consumers' imports may need.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from bench.fanout import FanoutConsumer, NotFoundConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": URLRouter(
            [
                path("ws/fanout", FanoutConsumer.as_asgi()),
                re_path(r"", NotFoundConsumer.as_asgi()),
            ]
        ),
    }
)
