"""What a process running Fika hands its jobs: the settings, and a unit of work to run one in.

The clock and the worker (``jobs``) run outside any request, often on threads of their own.
Each job opens a :meth:`Runtime.unit_of_work` (for the web app that is an application context,
in which ``core.db.db.session`` is the job's session) and passes ``settings`` to the core. So
the jobs never import the web app, and the core never looks for one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from core.db import db
from core.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """The settings of a running Fika and how to open a database session for one job."""

    settings: Settings
    #: Opens the scope in which ``db.session`` works (the web app's ``app_context``).
    context: Callable[[], AbstractContextManager[object]]

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """A scope for one job: its session is rolled back on error and removed at the end."""
        with self.context():
            try:
                yield
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
