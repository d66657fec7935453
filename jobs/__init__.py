"""What runs on its own: the clock (APScheduler) and the outbox worker loop.

Both are thin loops over the core (``core.rounds``, ``core.dispatch``, ...): they decide when
to call it, never what a change does. Nothing here imports ``web``; the command line (``fika``)
hands the jobs a :class:`core.runtime.Runtime`.
"""
