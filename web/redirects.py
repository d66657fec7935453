"""Where a sign-in may send the browser next: only a path on this site.

``next`` comes from a query string anyone can write, and a redirect to it after sign-in is the
classic open redirect. Browsers do not read a ``Location`` the way a naive check does: they drop
tabs and line breaks anywhere (``/\\t/evil.example`` becomes ``//evil.example``), treat a backslash
as a slash, and take ``//host`` as another host. So the rule is strict and simple: one leading
slash, then printable characters without backslashes, no scheme and no host, also once the
percent-encoding is undone (a proxy or a later hop may decode it). Anything else is refused and
the caller falls back to its default page.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

#: Longer than any path Fika makes; a longer ``next`` is not one of ours.
MAX_LENGTH = 2000


def safe_next(target: object) -> str | None:
    """``target`` if it is a relative path on this site, else None (the caller's default)."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    if any(c.isspace() or not c.isprintable() for c in target) or not _local(target):
        return None
    decoded = target
    for _ in range(3):  # undo percent-encoding as often as someone may have stacked it
        decoded, before = unquote(decoded), decoded
        if decoded == before:
            return target
        if any(not c.isprintable() and c != " " for c in decoded) or not _local(decoded):
            return None
    return None  # encoded more than three times over: nobody's real link looks like that


def _local(path: str) -> bool:
    """A path-absolute reference: '/x', never '//host', '/\\host', 'scheme:' or a host."""
    if not path.startswith("/") or path[1:2] in ("/", "\\") or "\\" in path:
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc
