"""URL map for the django-sync variant: the same paths as every target."""

from django.urls import path

from . import views_sync as views

urlpatterns = [
    path("plaintext", views.plaintext),
    path("json", views.json_view),
    path("db", views.db),
    path("queries", views.queries),
    path("fortunes", views.fortunes),
    path("updates", views.updates),
    path("io", views.io),
    path("cpu", views.cpu),
]

handler404 = "bench.contract.not_found"
handler500 = "bench.contract.server_error"
