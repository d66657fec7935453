"""Gunicorn settings for the Procfile's ``web`` process (``gunicorn -c gunicorn.conf.py ...``).

Threads per worker (``gthread``): a request spends part of its time waiting for the database,
and a thread can serve another request meanwhile; with plain ``sync`` workers that time is
lost. Workers come from ``WEB_CONCURRENCY`` (gunicorn's own variable; here 2 by default, one per
core is a good start); ``GUNICORN_CMD_ARGS`` overrides anything, e.g. ``--threads 8``.
``benchmarks/web_load.py`` measures these settings.

``reuse_port``: each worker listens on a socket of its own (``SO_REUSEPORT``; gunicorn creates
one per worker when it is set) and the kernel spreads new connections across them. With one
shared socket, whichever worker is awake accepts, and a keep-alive connection stays with the
worker that accepted it: a burst of connections (a proxy's pool, a load test) can all land on
one worker, whose GIL then holds them to one core while the other workers idle. Measured with
``benchmarks/web_load.py`` on the form POST: all 16 connections on one worker gave 403 req/s
with the other worker at 1 % of a core; spread by the kernel, 748-806 req/s with both busy.
The cost: connections still waiting in a worker's own queue when that worker exits are reset,
so a worker that dies or is restarted drops those few (gunicorn >= 27 opens the socket per
worker; an older one only marks the shared socket, which changes nothing).
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4
reuse_port = True
