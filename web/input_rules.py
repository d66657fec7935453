"""What a request may carry besides its forms: ids, page numbers and offsets, and query text.

Forms check their own fields (``web.forms``, with ``core.text`` and ``core.zones``); this module
holds the rules for everything else a request brings, each in one place so a new view gets it
without asking:

- **Whole numbers.** An id, a page or an offset is ASCII digits and nothing else, within bounds
  the databases take. ``"²".isdigit()`` is true but ``int("²")`` fails, and so does
  ``int("1" * 5000)``; PostgreSQL refuses an id past 2**31 in a query (ids are four-byte
  INTEGERs) and SQLite any number past 2**63. :func:`record_id` is the rule for ids, with
  :func:`whole_number` under it; :func:`int_arg`, :func:`page_arg` and :func:`id_arg` apply it
  to query parameters (a 400 that names the parameter and the range), and the ``int``
  converter of every URL rule is :class:`RecordIdConverter`, so ``/admin/rounds/99999999999``
  is a 404 like any other id that does not exist.
- **Query text.** A query parameter (its name or its value) with a NUL character is refused
  with a 400 before any view runs: PostgreSQL cannot store or compare such text, and no link
  or form of Fika's ever sends one. Other control characters are left to each view (a ``next``
  with a line break is simply not followed, a search with a tab finds nobody).
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

#: The largest id a row of Fika's can have: ids are INTEGER columns, four bytes in PostgreSQL
#: (which refuses a bigger number in a query about them; SQLite refuses one past 2**63).
MAX_ID = 2**31 - 1
#: Rows a list may skip: more than any organisation has, far below what a database refuses.
MAX_OFFSET = 1_000_000_000


def record_id(value: object) -> int:
    """``value`` as the id of a row: ASCII digits from 1 to :data:`MAX_ID`, else ValueError.

    Also WTForms' ``coerce`` for fields whose choices are ids (it turns the ValueError into a
    field error).
    """
    number = whole_number(value, 1, MAX_ID)
    if number is None:
        raise ValueError("not the id of anything")
    return number


def whole_number(value: object, low: int, high: int) -> int | None:
    """``value`` as a whole number from ``low`` to ``high`` (ASCII digits only), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if low <= value <= high else None
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        return None
    if len(value.lstrip("0")) > len(str(high)):  # before int(): it refuses 4,300 digits and up
        return None
    number = int(value)
    return number if low <= number <= high else None


def int_arg(name: str, default: int, low: int, high: int, *, blank_is_default: bool = True) -> int:
    """The query parameter ``name`` as a whole number from ``low`` to ``high``.

    Absent (or empty, from a filter form left at "all"): ``default``. Anything else answers
    400 naming the parameter and the range (as JSON under ``/api``, see ``web.errors``).
    """
    raw = request.args.get(name)
    if raw is None or (raw == "" and blank_is_default):
        return default
    number = whole_number(raw, low, high)
    if number is None:
        abort(400, f"{name}: expected a whole number from {low} to {high}")
    return number


def id_arg(name: str, *, form: bool = False) -> int | None:
    """The id in the query parameter (or, with ``form``, the form field) ``name``; None when
    absent or empty; 400 when it is not an id."""
    raw = (request.form if form else request.args).get(name)
    if not raw:
        return None
    try:
        return record_id(raw)
    except ValueError:
        abort(400, f"{name}: expected the id of a programme, round or person (a whole number)")


def page_arg(per_page: int) -> int:
    """The ``page`` query parameter (1 when absent), at most as far as :data:`MAX_OFFSET`."""
    return int_arg("page", 1, 1, MAX_OFFSET // per_page + 1)


class RecordIdConverter(IntegerConverter):
    """``<int:…>`` in URL rules: ASCII digits up to :data:`MAX_ID`; a bigger id matches no
    route (404), where werkzeug's own converter hands any run of digits to the view."""

    regex = r"[0-9]+"  # werkzeug's \d+ also takes the digits of other scripts

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's parameter name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def refuse_nul_in_query():
    """400 for a query parameter whose name or value holds a NUL (see the module)."""
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            abort(
                400,
                f"The query parameter {name[:40]!r} contains a NUL character, which Fika "
                "cannot store or search for; remove it and try again.",
            )


def init_app(app: Flask) -> None:
    """Bound ``<int:…>`` in URL rules and check query text; call before registering blueprints."""
    app.url_map.converters["int"] = RecordIdConverter
    app.before_request(refuse_nul_in_query)
