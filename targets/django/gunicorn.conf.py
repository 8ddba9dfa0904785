"""gunicorn settings for both Django variants, computed from the environment.

The worker class, ``--no-control-socket`` and the app are on the command line
(targets/targets.toml, docker-compose.yml); bind address and process/thread
counts come from env here because the command line is not shell-expanded.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bakeoff_site import budget  # noqa: E402

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = budget.workers()
threads = budget.threads()
# Keep load-generator connections open for a whole run (gunicorn's default is
# 2 s); uvicorn workers take their keep-alive timeout from this setting too.
keepalive = 65
# Long enough for /io?ms=10000 plus queueing; the worker is killed after this.
timeout = 60
graceful_timeout = 10
accesslog = None
errorlog = "-"
loglevel = "warning"
control_socket_disable = True
proc_name = f"bakeoff-django-{budget.mode()}"
