"""What the fuzz test of every input needs: the routes, their parameters, and hostile values.

Routes come from ``app.url_map``, so a new route is fuzzed without anyone listing it. Its
parameters are found two ways, so that nobody has to list those either: the forms and links of
every page the app renders (the names, and values that pass validation), and the names the views
actually read from ``request.args`` and ``request.form`` while they answer (recorded through
``Flask.request_class``), which also finds query parameters no page links to.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from flask import Flask, Request
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict

#: ``<converter(arguments):name>`` in a rule, as werkzeug writes them.
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    """One method of one URL rule, and the converter of each part of its path."""

    rule: str
    method: str
    endpoint: str
    converters: tuple[tuple[str, str], ...]  # (name, converter: "default", "int", "path")

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"

    def path(self, values: dict[str, str]) -> str:
        """The rule with each argument replaced by its (already quoted) value."""
        return ARGUMENT.sub(lambda m: values[m.group(2)], self.rule)


def routes_of(app: Flask) -> list[Route]:
    """Every rule and method the app answers (HEAD and OPTIONS are Flask's own)."""
    found = []
    for rule in app.url_map.iter_rules():
        parts = ARGUMENT.finditer(rule.rule)
        converters = tuple((m.group(2), m.group(1) or "default") for m in parts)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append(Route(rule.rule, method, rule.endpoint, converters))
    return sorted(found, key=lambda r: (r.rule, r.method))


# --- Parameters seen on pages ---------------------------------------------------------------


@dataclass
class Param:
    """A form or query parameter: the values pages offer for it, and whether it is a file."""

    samples: list[str] = field(default_factory=list)
    multiple: bool = False  # checkboxes sharing the name: several values at once
    file: bool = False

    def add(self, value: str) -> None:
        if value not in self.samples:
            self.samples.append(value)


class Parameters:
    """Query and form parameters per endpoint and method, as pages and views reveal them."""

    def __init__(self) -> None:
        self.query: dict[str, dict[str, Param]] = defaultdict(dict)  # endpoint -> name -> Param
        self.form: dict[tuple[str, str], dict[str, Param]] = defaultdict(dict)

    def query_of(self, route: Route) -> dict[str, Param]:
        return self.query[route.endpoint]

    def form_of(self, route: Route) -> dict[str, Param]:
        return self.form[(route.endpoint, route.method)] if route.method != "GET" else {}

    def learn_page(self, app: Flask, page_url: str, html: str) -> None:
        """The forms and links on a page, matched to the endpoints they go to."""
        parser = _PageParser()
        parser.feed(html)
        adapter = app.url_map.bind("localhost")
        for action, method, fields in parser.forms:
            target = urlsplit(urljoin(page_url, action or page_url))
            endpoint = _endpoint(adapter, target.path, method)
            if endpoint is None:
                continue
            bucket = self.query[endpoint] if method == "GET" else self.form[(endpoint, method)]
            names = [name for name, _, _ in fields]
            for name, value, kind in fields:
                param = bucket.setdefault(name, Param())
                param.file = param.file or kind == "file"
                param.multiple = param.multiple or (kind == "checkbox" and names.count(name) > 1)
                param.add(value)
            for name, value in parse_qsl(target.query, keep_blank_values=True):
                self.query[endpoint].setdefault(name, Param()).add(value)
        for href in parser.links:
            target = urlsplit(urljoin(page_url, href))
            if target.netloc not in ("", "localhost") or not target.query:
                continue
            endpoint = _endpoint(adapter, target.path, "GET")
            if endpoint is not None:
                for name, value in parse_qsl(target.query, keep_blank_values=True):
                    self.query[endpoint].setdefault(name, Param()).add(value)

    def learn_reads(self, route: Route, reads: Reads) -> bool:
        """Add the names a view read; True when any was new."""
        new = False
        for name in reads.args:
            if name not in self.query[route.endpoint]:
                self.query[route.endpoint][name] = Param([""])
                new = True
        if route.method != "GET":
            for name in reads.form:
                if name not in self.form[(route.endpoint, route.method)]:
                    self.form[(route.endpoint, route.method)][name] = Param([""])
                    new = True
        return new


def _endpoint(adapter, path: str, method: str) -> str | None:
    try:
        endpoint, _ = adapter.match(path, method=method)
    except Exception:  # werkzeug's routing answers (404, 405, redirects) are exceptions
        return None
    return endpoint


#: A value that passes validation, for fields whose page offers none (an empty text input).
def _valid_for(name: str, kind: str) -> str:
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    by_kind = {"email": "fuzz@example.org", "time": "10:00", "date": tomorrow.isoformat(),
               "number": "15", "checkbox": "y", "url": "https://meet.example.org/fuzz"}  # fmt: skip
    if kind in by_kind:
        return by_kind[kind]
    if name == "email":
        return "fuzz@example.org"
    return "Fuzz"


class _PageParser(HTMLParser):
    """Forms (action, method, [(name, a valid value, input type)]) and links of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, list[tuple[str, str, str]]]] = []
        self.links: list[str] = []
        self._fields: list[tuple[str, str, str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._fields = []
            self.forms.append((a.get("action", ""), a.get("method", "get").upper(), self._fields))
        elif self._fields is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            value = a["value"] if "value" in a else ""
            if not value and kind not in ("submit", "hidden", "file"):
                value = _valid_for(a["name"], kind)
            self._fields.append((a["name"], value, kind))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select is not None:
            self._fields.append((self._select, a.get("value", ""), "select"))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._fields.append((a["name"], "Fuzz", "textarea"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None


# --- Parameters the views read ----------------------------------------------------------------


@dataclass
class Reads:
    """Names read from the query string and from the form during one request."""

    args: set[str] = field(default_factory=set)
    form: set[str] = field(default_factory=set)


_recording = threading.local()


def _recorded(kind: str):
    """A MultiDict that notes every name looked up in it (into the current :class:`Reads`)."""

    class Recording(ImmutableMultiDict):
        def _note(self, key):
            reads = getattr(_recording, "reads", None)
            if reads is not None and isinstance(key, str):
                getattr(reads, kind).add(key)

        def __getitem__(self, key):
            self._note(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            self._note(key)
            return super().__contains__(key)

        def get(self, key, default=None, type=None):  # noqa: A002 - MultiDict's signature
            self._note(key)
            return super().get(key, default, type)

        def getlist(self, key, type=None):  # noqa: A002
            self._note(key)
            return super().getlist(key, type)

    return Recording


_RecordingArgs, _RecordingForm = _recorded("args"), _recorded("form")


class RecordingRequest(Request):
    """Flask's request, noting which query and form names the view looks up."""

    @property
    def args(self):
        return _RecordingArgs(super().args)

    @property
    def form(self):
        return _RecordingForm(super().form)


class recording:
    """``with recording() as reads:`` collects the names requests look up meanwhile."""

    def __enter__(self) -> Reads:
        _recording.reads = Reads()
        return _recording.reads

    def __exit__(self, *exc) -> None:
        _recording.reads = None


# --- Hostile values ----------------------------------------------------------------------------

#: Characters no one types into a form but anyone can send: NUL, line breaks, tab, escape,
#: DEL, C1 controls (NEL), the Unicode line and paragraph separators, a byte order mark.
CONTROLS = "\x00\t\n\r\x0b\x0c\x1b\x7f\x85\x9f\u2028\u2029\ufeff"
#: Text Python reads as a digit but int() does not, or does differently.
ODD_DIGITS = ["²", "١٢", "½", "1_000", " 1", "+1", "-1", "0x10", "1e3", "٣"]
HUGE_INTEGERS = [str(2**31), str(2**63 - 1), str(2**63), str(2**64), "9" * 30, "1" * 5000]


def huge(size: int) -> st.SearchStrategy[str]:
    """A string of ``size`` characters (one repeated: cheap to make, as long as a real one)."""
    return st.sampled_from(["a", "\x00", "9", "é", "/", "%"]).map(lambda c: c * size)


def hostile_text(max_huge: int) -> st.SearchStrategy[str]:
    """Text with control characters, huge text and huge or odd numbers."""
    return st.one_of(
        st.text(st.one_of(st.sampled_from(CONTROLS), st.characters()), max_size=30),
        st.sampled_from(HUGE_INTEGERS + ODD_DIGITS),
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        huge(300) | huge(5_000) | huge(max_huge),
    )


#: One hostile value of each kind, sent to every parameter in turn (the others left valid).
SWEEP = ["Fuzz\x00NUL", "line\r\nbreak", "²", str(2**31), str(2**63), "1" * 5000,
         "0001-01-01", "9999-12-31"]  # fmt: skip
#: Huge: far past every limit (a file name's 255 bytes, a column's 254 characters) and still
#: cheap enough to send a few hundred times. The 1 MB cases of issue 21 have tests of their own.
HUGE = 100_000
