"""URL map for the django-async variant: the same paths as every target,
the database endpoints twice: ORM views, and raw SQL under ``raw/``."""

from django.urls import path

from . import views_async as views

urlpatterns = [
    path("plaintext", views.plaintext),
    path("json", views.json_view),
    path("db", views.db),
    path("queries", views.queries),
    path("fortunes", views.fortunes),
    path("updates", views.updates),
    path("io", views.io),
    path("cpu", views.cpu),
    # The database endpoints in raw SQL (bench/raw.py), same contract.
    path("raw/db", views.raw_db),
    path("raw/queries", views.raw_queries),
    path("raw/fortunes", views.raw_fortunes),
    path("raw/updates", views.raw_updates),
    # Real-time: the WebSocket itself is routed in bakeoff_site/asgi.py.
    path("ws/info", views.ws_info),
    path("ws/fanout", views.ws_fanout),
]

handler404 = "bench.contract.not_found"
handler500 = "bench.contract.server_error"
