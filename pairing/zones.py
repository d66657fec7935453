"""IANA time zones: which names are zones, without touching the file system for a name.

``ZoneInfo(name)`` opens a file named after ``name``: a 1 MB name ends in ``OSError: File name
too long``, and ``localtime``, a file many systems keep next to the zones, silently means
whatever zone the machine runs in. So a name is a zone only if it is in the set of IANA names,
read once per process. ``core.zones`` (every way into the service) and the planner's request
parser (``fika plan``) both ask :func:`is_zone`.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

#: Names ``available_timezones()`` may list that are not IANA zones but files of the host:
#: ``localtime`` is a link to /etc/localtime (the server's own zone), ``posixrules`` a copy
#: of one zone that zic leaves behind.
NOT_IANA = frozenset({"localtime", "posixrules"})


@lru_cache(maxsize=1)
def iana_zones() -> frozenset[str]:
    """Every IANA zone name this system (or the tzdata package) has, read once."""
    return frozenset(available_timezones()) - NOT_IANA


def is_zone(name: object) -> bool:
    """Whether ``name`` is an IANA zone, e.g. 'Europe/Oslo' or 'UTC' (exact spelling)."""
    return isinstance(name, str) and name in iana_zones()
