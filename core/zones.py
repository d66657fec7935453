"""IANA time zones: the one check of a zone name at every way in, and the names for selects.

A zone comes from the opt-in form, the preferences, the admin's programme form, the API, CSV
files and FIKA_TIMEZONE. Each asks :func:`is_zone`, which looks the name up in the set of IANA
zones read once per process; the rule lives in ``pairing.zones``, so ``fika plan`` applies it
too. Nothing a person sends reaches the file system: ``ZoneInfo(name)`` opens a file named after
``name``, so a 1 MB name once ended in ``OSError: File name too long`` (a 500), and
``localtime``, a file many systems keep next to the zones, silently meant whatever zone the
server runs in.
"""

from __future__ import annotations

from functools import lru_cache

from pairing.zones import NOT_IANA, iana_zones, is_zone

__all__ = ["NOT_IANA", "iana_zones", "is_zone", "zone_names"]


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Sorted canonical-looking zone names (Area/City), plus UTC; no legacy aliases like 'EST'."""
    names = {z for z in iana_zones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))}
    return ("UTC", *sorted(names))
