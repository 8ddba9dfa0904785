"""Contract tests for the Django views and helpers, without a database.

Run: cd targets/django && DJANGO_SETTINGS_MODULE=bakeoff_site.settings \
     PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m django test bench

Bodies that must be identical across targets are compared with the fixtures in
targets/testdata, which the Node tests compare against too. Database-backed
endpoints are covered by ``bakeoff check`` against a real PostgreSQL.
"""

import hashlib
import json
import os
import time
from pathlib import Path
from unittest import mock

from asgiref.sync import async_to_sync
from django.template import loader
from django.test import RequestFactory, SimpleTestCase, override_settings

from bakeoff_site import budget

from . import contract, views_async, views_sync
from .models import Fortune

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"


class ParamTests(SimpleTestCase):
    def setUp(self):
        self.factory = RequestFactory()

    def count(self, query):
        return contract.query_count(self.factory.get("/queries" + query))

    def test_queries_clamp_and_default(self):
        cases = [
            ("", 1), ("?queries=abc", 1), ("?queries=0", 1), ("?queries=-5", 1),
            ("?queries=12abc", 1), ("?queries=1.5", 1), ("?queries=%D9%A3", 1),
            ("?queries=7", 7), ("?queries=9999", 500), ("?queries=2&queries=4", 4),
        ]
        for query, expected in cases:
            with self.subTest(query=query):
                self.assertEqual(self.count(query), expected)

    def test_cpu_and_io_clamps(self):
        get = self.factory.get
        self.assertEqual(contract.cpu_rounds(get("/cpu")), 1)
        self.assertEqual(contract.cpu_rounds(get("/cpu?n=0")), 1)
        self.assertEqual(contract.cpu_rounds(get("/cpu?n=999999")), 100000)
        self.assertEqual(contract.io_millis(get("/io?ms=-3")), 0)
        self.assertEqual(contract.io_millis(get("/io?ms=abc")), 0)
        self.assertEqual(contract.io_millis(get("/io?ms=20000")), 10000)

    def test_cpu_digest_chain(self):
        self.assertEqual(contract.cpu_digest(1), hashlib.sha256(b"bakeoff").hexdigest())
        self.assertEqual(
            contract.cpu_digest(1000),
            "78179f3472b13f3021445915990d594982e3e889edcd70c80d3fa2b93f297ffe",
        )

    def test_update_ids_distinct_sorted(self):
        ids = contract.distinct_sorted_ids(500)
        self.assertEqual(len(set(ids)), 500)
        self.assertEqual(ids, sorted(ids))
        self.assertTrue(all(1 <= i <= 10000 for i in ids))

    def test_new_random_number_differs(self):
        for old in (1, 2, 5000, 9999, 10000):
            for _ in range(2000):
                value = contract.new_random_number(old)
                self.assertNotEqual(value, old)
                self.assertTrue(1 <= value <= 10000)


class FortunesTemplateTests(SimpleTestCase):
    def test_matches_shared_fixture(self):
        rows = [Fortune(**r) for r in json.loads((TESTDATA / "fortunes.json").read_text("utf-8"))]
        html = loader.get_template("fortunes.html").render(
            {"fortunes": contract.sorted_fortunes(rows, Fortune)}
        )
        self.assertEqual(html, (TESTDATA / "fortunes.html").read_text("utf-8"))
        self.assertNotIn("<script>", html)


class ResponseTests(SimpleTestCase):
    """Non-DB endpoints through the full handler (urlconf, handler404)."""

    def check_plaintext_json_404(self):
        response = self.client.get("/plaintext")
        self.assertEqual(response.content, b"Hello, World!")
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        self.assertEqual(response["Content-Length"], "13")
        response = self.client.get("/json")
        self.assertEqual(response.content, b'{"message":"Hello, World!"}')
        self.assertEqual(response["Content-Type"], "application/json; charset=utf-8")
        response = self.client.get("/no/such/path")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.content, b"Not Found")
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        self.assertEqual(response["Content-Length"], "9")

    @override_settings(ROOT_URLCONF="bench.urls_sync")
    def test_sync_urlconf(self):
        self.check_plaintext_json_404()

    @override_settings(ROOT_URLCONF="bench.urls_async")
    def test_async_urlconf(self):
        self.check_plaintext_json_404()

    def test_io_and_cpu_bodies_match_between_sync_and_async(self):
        factory = RequestFactory()
        for path, view in (("/io?ms=30", "io"), ("/cpu?n=1000", "cpu")):
            request = factory.get(path)
            started = time.monotonic()
            sync_body = getattr(views_sync, view)(request).content
            self.assertGreaterEqual(time.monotonic() - started, 0.029 if view == "io" else 0)
            started = time.monotonic()
            async_body = async_to_sync(getattr(views_async, view))(request).content
            self.assertGreaterEqual(time.monotonic() - started, 0.029 if view == "io" else 0)
            self.assertEqual(sync_body, async_body)
        self.assertEqual(sync_body, json.dumps(
            {"rounds": 1000, "digest": contract.cpu_digest(1000)}, separators=(",", ":")
        ).encode())


class BudgetTests(SimpleTestCase):
    def budget(self, cpus, **env):
        with mock.patch.dict(os.environ, env, clear=False), mock.patch.object(
            budget, "allowed_cpus", return_value=cpus
        ):
            for name in ("WORKERS", "THREADS", "DB_POOL"):
                if name not in env:
                    os.environ.pop(name, None)
            return budget.workers(), budget.threads(), budget.connections_per_worker()

    def test_sync_defaults(self):
        self.assertEqual(self.budget(2, DJANGO_MODE="sync"), (5, 3, 3))
        self.assertEqual(self.budget(1, DJANGO_MODE="sync", DB_POOL="4"), (3, 1, 1))
        self.assertEqual(self.budget(8, DJANGO_MODE="sync", DB_POOL="4"), (4, 1, 1))

    def test_async_defaults(self):
        self.assertEqual(self.budget(2, DJANGO_MODE="async"), (2, 1, 8))
        self.assertEqual(self.budget(2, DJANGO_MODE="async", DB_POOL="5"), (2, 1, 2))

    def test_explicit_env_wins(self):
        self.assertEqual(self.budget(2, DJANGO_MODE="sync", WORKERS="2", THREADS="10"), (2, 10, 10))

    def test_invalid_env_rejected(self):
        for value in ("0", "-1", "x"):
            with self.subTest(value=value), self.assertRaises(ValueError):
                self.budget(2, DJANGO_MODE="sync", DB_POOL=value)
        with self.assertRaises(ValueError):
            self.budget(2, DJANGO_MODE="both")
