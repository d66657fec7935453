"""Gunicorn settings for the Procfile's ``web`` process (``gunicorn -c gunicorn.conf.py ...``).

Threads per worker (``gthread``): a request spends part of its time waiting for the database,
and a thread can serve another request meanwhile; with plain ``sync`` workers that time is
lost. Workers come from ``WEB_CONCURRENCY`` (gunicorn's own variable; here 2 by default, one per
core is a good start); ``GUNICORN_CMD_ARGS`` overrides anything, e.g. ``--threads 8``.
``benchmarks/web_load.py`` measures these settings.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4
