"""A small, fast writer for the MIME messages Fika sends (RFC 5322, 2045-2047).

The ``email`` package's object model costs about 8 ms per invite to build and flatten, which
caps one outbox worker near 120 emails a second. Fika's messages have one fixed shape, so they
are written here as bytes directly: CRLF line ends, quoted-printable UTF-8 text, base64
calendars, RFC 2047 encoded words for non-ASCII header text, and boundaries that cannot occur
in the encoded content (``=_`` never appears in quoted-printable or base64 output). :func:`parse`
turns the bytes back into an ``EmailMessage`` for tests and previews.

Header values are checked, not trusted: a line break or NUL in any of them raises
``ValueError`` (header injection), as does an address that is not a plain ``local@domain``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from email import message_from_bytes, policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

CRLF = b"\r\n"
_NOT_IN_ADDRESS = frozenset(' \t<>,;:"()[]\\')


def _clean(name: str, value: str) -> str:
    if "\r" in value or "\n" in value or "\0" in value:  # CR, LF or NUL: header injection
        raise ValueError(f"header {name} contains a line break: {value!r}")
    return value


def address(display_name: str, email: str) -> str:
    """``Name <local@domain>``, the name quoted or RFC 2047-encoded as it needs."""
    _clean("address", display_name)
    _clean("address", email)
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or not _NOT_IN_ADDRESS.isdisjoint(email):
        raise ValueError(f"not an email address: {email!r}")
    if not display_name:
        return email
    # One encoded word for a non-ASCII name, even a long one: parsers differ on whether the
    # space between two encoded words in an address belongs to the name. (formataddr quotes or
    # encodes the name; it only refuses the internationalised addresses RFC 6532 allows.)
    phrase = formataddr((display_name, "x@x"), "utf-8").removesuffix(" <x@x>")
    return f"{phrase} <{email}>"


def unstructured(name: str, value: str) -> str:
    """A header value such as Subject: as is when short ASCII, otherwise folded encoded words."""
    _clean(name, value)
    if value.isascii() and len(name) + len(value) < 76:
        return value
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep="\r\n")


def headers(fields: Iterable[tuple[str, str]]) -> bytes:
    """Header lines for already-encoded values (see :func:`address`, :func:`unstructured`)."""
    lines = []
    for name, value in fields:
        _clean(name, value.replace("\r\n ", " "))  # folding written here is the only CRLF
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("utf-8")


def address_list(people: Sequence[tuple[str, str]]) -> str:
    """Several addresses, one per folded line so a large group never exceeds a line limit."""
    return ",\r\n ".join(address(name, email) for name, email in people)


def date(moment: datetime) -> str:
    """An RFC 5322 Date value."""
    return format_datetime(moment)


def text_part(text: str, subtype: str = "plain") -> bytes:
    """A UTF-8 text part, quoted-printable, with CRLF line ends."""
    body = binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", CRLF)
    if not body.endswith(CRLF):
        body += CRLF
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + body


def base64_body(data: bytes) -> bytes:
    """``data`` in base64 lines of 76 characters with CRLF ends (the body of a binary part)."""
    return base64.encodebytes(data).replace(b"\n", CRLF)


def binary_part(
    data: bytes, content_type: str, extra: Sequence[str] = (), *, body: bytes | None = None
) -> bytes:
    """A base64 part; ``content_type`` may carry parameters; ``extra`` are whole header lines.
    ``body`` may pass ``base64_body(data)`` when the caller already has it (the same calendar
    goes in two parts)."""
    lines = [f"Content-Type: {content_type}", *extra, "Content-Transfer-Encoding: base64"]
    if body is None:
        body = base64_body(data)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def boundary(seed: str, depth: int) -> str:
    """A boundary that cannot occur in quoted-printable or base64 content (it holds ``=_``)."""
    digest = hashlib.sha256(f"{seed}/{depth}".encode()).hexdigest()[:24]
    return f"=_fika_{depth}_{digest}"


def multipart(subtype: str, parts: Sequence[bytes], mark: str) -> bytes:
    """A ``multipart/<subtype>`` entity: its Content-Type line, then the parts."""
    head = f'Content-Type: multipart/{subtype};\r\n boundary="{mark}"\r\n\r\n'.encode()
    delimiter = f"--{mark}\r\n".encode()
    body = b"".join(delimiter + part + CRLF for part in parts)
    return head + body + f"--{mark}--\r\n".encode()


def parse(raw: bytes) -> EmailMessage:
    """The message as the ``email`` package sees it (what a receiving client parses)."""
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]
