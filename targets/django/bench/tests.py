"""Contract tests for the Django views and helpers, without a database.

Run: cd targets/django && DJANGO_SETTINGS_MODULE=bakeoff_site.settings \
     SECRET_KEY=test DATABASE_URL=postgres://u:p@127.0.0.1:1/d \
     PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m django test bench

Bodies that must be identical across targets are compared with the fixtures in
targets/testdata, which the Node tests compare against too. Database-backed
endpoints are covered by ``bakeoff check`` against a real PostgreSQL.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

from asgiref.sync import async_to_sync
from django.template import loader
from django.test import RequestFactory, SimpleTestCase, override_settings

from bakeoff_site import budget

from . import contract, fanout, raw, views_async, views_sync
from .models import Fortune, World

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


class RawSqlTests(SimpleTestCase):
    """The /raw/ twins through both urlconfs over a fake cursor: Node's SQL,
    one statement per row read, one UPDATE for all of /updates' rows, and
    the same bodies as the contract's fixtures."""

    def fake_connection(self):
        fortunes = json.loads((TESTDATA / "fortunes.json").read_text("utf-8"))
        executed = []

        class Cursor:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, sql, params=None):
                executed.append((sql, params))
                self.params = params

            def fetchone(self):
                return (self.params[0], 7)

            def fetchall(self):
                return [(f["id"], f["message"]) for f in fortunes]

        connection = mock.Mock()
        connection.cursor = Cursor
        return connection, executed

    def check_raw(self):
        connection, executed = self.fake_connection()
        with mock.patch.object(raw, "connection", connection):
            body = json.loads(self.client.get("/raw/db").content)
            self.assertEqual(list(body), ["id", "randomNumber"])
            self.assertEqual(executed, [(raw.SELECT_WORLD, [body["id"]])])

            executed.clear()
            rows = json.loads(self.client.get("/raw/queries?queries=3").content)
            self.assertEqual(len(rows), 3)
            self.assertEqual([sql for sql, _ in executed], [raw.SELECT_WORLD] * 3)

            executed.clear()
            rows = json.loads(self.client.get("/raw/updates?queries=2").content)
            ids = [r["id"] for r in rows]
            self.assertEqual(ids, sorted(set(ids)))
            self.assertTrue(all(r["randomNumber"] != 7 for r in rows))
            self.assertEqual(
                [sql for sql, _ in executed], [raw.SELECT_WORLD] * 2 + [raw.UPDATE_WORLDS]
            )
            self.assertEqual(executed[-1][1], [ids, [r["randomNumber"] for r in rows]])

            executed.clear()
            response = self.client.get("/raw/fortunes")
            self.assertEqual(response.content.decode("utf-8"),
                             (TESTDATA / "fortunes.html").read_text("utf-8"))
            self.assertEqual(executed, [(raw.SELECT_FORTUNES, None)])

    @override_settings(ROOT_URLCONF="bench.urls_sync")
    def test_sync_raw_twins(self):
        self.check_raw()

    @override_settings(ROOT_URLCONF="bench.urls_async")
    def test_async_raw_twins(self):
        self.check_raw()


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


FAILURE_MARKER = "secret-internal-failure-marker"
PROJECT = Path(__file__).resolve().parents[1]


class ErrorResponseTests(SimpleTestCase):
    """A view that fails (here: the database) answers the contract's plain
    500, never a traceback or the exception's text; the error is logged."""

    def fail(self, *args, **kwargs):
        raise RuntimeError(FAILURE_MARKER)

    def check_plain_500(self, paths):
        self.client.raise_request_exception = False
        for path in paths:
            with self.subTest(path=path), self.assertLogs("django.request", "ERROR") as logs:
                response = self.client.get(path)
            self.assertEqual(response.status_code, 500)
            self.assertEqual(response.content, b"Internal Server Error")
            self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
            self.assertIn(FAILURE_MARKER, "\n".join(logs.output))

    @override_settings(ROOT_URLCONF="bench.urls_sync")
    def test_sync_failure_is_a_plain_500(self):
        with mock.patch.object(World.objects, "get", self.fail), mock.patch.object(
            Fortune.objects, "all", self.fail
        ):
            self.check_plain_500(["/db", "/queries?queries=3", "/updates?queries=2", "/fortunes"])

    @override_settings(ROOT_URLCONF="bench.urls_async")
    def test_async_failure_is_a_plain_500(self):
        async def fail(*args, **kwargs):
            raise RuntimeError(FAILURE_MARKER)

        with mock.patch.object(World.objects, "aget", fail), mock.patch.object(
            Fortune.objects, "all", self.fail
        ):
            self.check_plain_500(["/db", "/queries?queries=3", "/updates?queries=2", "/fortunes"])

    def test_malformed_input_gives_no_traceback(self):
        self.client.raise_request_exception = False
        for urlconf in ("bench.urls_sync", "bench.urls_async"):
            for path in ("/cpu?n=%", "/cpu?n=1e400", "/io?ms=%00", "/io?ms=%E0%A4%A",
                         "/%E0%A4%A", "/cpu/%", "/..%2f..%2fetc/passwd"):
                with self.subTest(urlconf=urlconf, path=path), override_settings(ROOT_URLCONF=urlconf):
                    response = self.client.get(path)
                    self.assertLess(response.status_code, 500)
                    self.assertNotIn(b"Traceback", response.content)
                    self.assertNotIn(b"File \"", response.content)


class SecretsTests(SimpleTestCase):
    """DEBUG is off with no switch; SECRET_KEY and the database password come
    only from the environment, with no default in the code."""

    def test_settings_module_reads_env_and_has_debug_off(self):
        import bakeoff_site.settings as module

        # The module itself, not django.conf.settings, whose DEBUG the test
        # runner forces off anyway.
        self.assertIs(module.DEBUG, False)
        self.assertEqual(module.SECRET_KEY, os.environ["SECRET_KEY"])
        db = module.DATABASES["default"]
        expected = os.environ["DATABASE_URL"].split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        self.assertEqual(db["PASSWORD"], expected)

    def settings_in_child(self, **env):
        base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
        base.update(env)
        return subprocess.run(
            [sys.executable, "-c",
             "import bakeoff_site.settings as s; print(s.DEBUG, s.SECRET_KEY, s.DATABASES['default']['PASSWORD'])"],
            cwd=PROJECT, env=base, capture_output=True, text=True, timeout=60,
        )

    def test_missing_secrets_refuse_to_start(self):
        url = "postgres://u:child-pw@127.0.0.1:1/d"
        for env, missing in (({"DATABASE_URL": url}, "SECRET_KEY"), ({"SECRET_KEY": "k"}, "DATABASE_URL")):
            with self.subTest(missing=missing):
                out = self.settings_in_child(**env)
                self.assertNotEqual(out.returncode, 0)
                self.assertIn(f"{missing} is not set", out.stderr)
        out = self.settings_in_child(SECRET_KEY="child-key", DATABASE_URL=url, DEBUG="1", DJANGO_DEBUG="1")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split(), ["False", "child-key", "child-pw"])


class FanoutTests(SimpleTestCase):
    """GET /ws/fanout (bench/fanout.py) in-process, on the memory bus: no
    database. The PostgreSQL bus is covered by ``bakeoff check``."""

    def setUp(self):
        patcher = mock.patch.object(fanout, "_bus", fanout.MemoryBus())
        patcher.start()
        self.addCleanup(patcher.stop)

    @staticmethod
    async def _client():
        from asgiref.testing import ApplicationCommunicator

        scope = {"type": "websocket", "path": "/ws/fanout", "headers": [], "subprotocols": []}
        comm = ApplicationCommunicator(fanout.FanoutConsumer.as_asgi(), scope)
        await comm.send_input({"type": "websocket.connect"})
        return comm, await comm.receive_output(2)

    def test_every_client_hears_every_message_in_order_sender_included(self):
        async def run():
            a, accepted = await self._client()
            b, _ = await self._client()
            self.assertEqual(accepted["type"], "websocket.accept")
            for seq in range(5):
                await a.send_input({"type": "websocket.receive", "text": f"a{seq}"})
            await b.send_input({"type": "websocket.receive", "text": "b0"})
            heard = {}
            for name, comm in (("a", a), ("b", b)):
                heard[name] = [(await comm.receive_output(2))["text"] for _ in range(6)]
                self.assertTrue(await comm.receive_nothing(0.05))
            for comm in (a, b):
                await comm.send_input({"type": "websocket.disconnect", "code": 1000})
                await comm.wait(1)
            return heard

        heard = async_to_sync(run)()
        for got in heard.values():
            self.assertEqual([t for t in got if t.startswith("a")], [f"a{i}" for i in range(5)])
            self.assertIn("b0", got)
        self.assertEqual(fanout.bus().clients, set())

    @override_settings(ROOT_URLCONF="bench.urls_sync")
    def test_sync_refuses_with_426_and_says_why(self):
        response = self.client.get("/ws/fanout", HTTP_UPGRADE="websocket", HTTP_CONNECTION="Upgrade")
        self.assertEqual(response.status_code, 426)
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        self.assertIn(b"WSGI cannot hold a WebSocket", response.content)
        info = json.loads(self.client.get("/ws/info").content)
        self.assertEqual(info["bus"], None)
        self.assertIs(info["offered"], False)
        self.assertIn("django-async", info["reason"])

    @override_settings(ROOT_URLCONF="bench.urls_async")
    def test_async_info_names_the_bus_and_a_plain_get_is_told_426(self):
        response = self.client.get("/ws/info")
        self.assertEqual(response.content, b'{"bus":"memory","offered":true}')
        response = self.client.get("/ws/fanout")
        self.assertEqual(response.status_code, 426)
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        self.assertEqual(response.content, fanout.PLAIN_GET.encode())
