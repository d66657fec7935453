"""Email invites (iMIP, RFC 6047) over SMTP: the channel every calendar client understands.

Each member gets one message whose body offers the invite three ways (plain text, HTML and an
inline ``text/calendar`` part that Outlook, Gmail and Apple Mail turn into Accept/Decline
buttons), plus the same calendar as an ``invite.ics`` attachment for clients that only look at
attachments. The ``method=`` of the calendar part always equals the calendar's METHOD, since
clients that see a mismatch ignore the invite.

The bytes are written by :mod:`integrations.mime` (fast, and checked against header injection);
:func:`build_email` parses them back for tests and previews.

Per RFC 5321, 4xx replies are transient (the dispatcher retries them) and 5xx replies permanent.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from html import escape
from typing import Literal
from urllib.parse import unquote, urlsplit

from core.i18n import current_language, using
from core.i18n import gettext as _
from integrations import mime, nudges
from integrations.base import ConfigError, DeliveryError, Message, MessageKind
from integrations.ical import build_calendar
from integrations.invite_text import (
    answers_html,
    answers_text,
    render_html,
    render_text,
    summary_of,
)
from integrations.room_calendar import build_room_calendar
from integrations.room_calendar import describe as room_text

Security = Literal["none", "starttls", "tls"]

_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("none", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server, parsed from ``FIKA_SMTP_URL``."""

    host: str
    port: int
    security: Security = "none"
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URLs (credentials URL-encoded).

        Raises :class:`ConfigError` naming ``FIKA_SMTP_URL`` so start-up fails with a message an
        operator can act on instead of a traceback on the first delivery.
        """
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as error:
            raise ConfigError(f"FIKA_SMTP_URL: not a valid URL ({error})") from None
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise ConfigError(
                f"FIKA_SMTP_URL: unknown scheme {scheme!r}; use smtp://, smtp+starttls:// "
                "(STARTTLS, usually port 587) or smtps:// (implicit TLS, usually port 465)"
            )
        if not parts.hostname:
            raise ConfigError("FIKA_SMTP_URL: missing host, e.g. smtp+starttls://user:pw@host:587")
        security, default_port = _SCHEMES[scheme]
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if username and password is None:
            raise ConfigError("FIKA_SMTP_URL: a user name is given but no password")
        return cls(parts.hostname, port or default_port, security, username, password)


def message_id(key: str, domain: str) -> str:
    """A Message-ID that is the same for every resend of one delivery (RFC 5322 §3.6.4)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<fika.{digest}@{domain}>"


def subject_for(message: Message) -> str:
    """The subject line: the summary, prefixed when the break changed or was cancelled."""
    invite = message.invite
    summary = summary_of(invite)
    if invite.method == "CANCEL":
        return _("Cancelled: %(summary)s", summary=summary)
    if invite.sequence > 0:
        return _("Updated: %(summary)s", summary=summary)
    return summary


def calendar_for(message: Message) -> bytes:
    """The iCalendar object of an invite (or of a drop-in room's recurring event)."""
    if message.room is not None:
        return build_room_calendar(message.room)
    return build_calendar(message.invite)


def _in_language(message: Message):
    """Render inside this: the reader's language (``message.language``), else the current one,
    fixed for the whole message. A message asks for its language some fifty times (every word,
    date and calendar line); a fixed one is read from a context variable, where the
    organisation's default is looked up in the environment each time."""
    return using(message.language or current_language())


def render_email(
    message: Message,
    mail_from: str,
    mail_from_name: str = "Fika",
    *,
    date: datetime | None = None,
    calendar: bytes | None = None,
) -> bytes:
    """The full iMIP message for one delivery, as the bytes sent (see the module docstring).

    ``calendar`` may pass the group's calendar object when the caller already built it: every
    member of a group gets the same one. Raises ``ValueError`` for a header that would inject
    (a line break in a name) or an address that is not an address.
    """
    with _in_language(message):
        return _render_email(message, mail_from, mail_from_name, date, calendar)


def _render_email(
    message: Message,
    mail_from: str,
    mail_from_name: str,
    date: datetime | None,
    calendar: bytes | None,
) -> bytes:
    invite = message.invite
    # Cancellations carry no answer links: there is nothing left to answer.
    links = message.links if invite.method == "REQUEST" else {}
    calendar = calendar or calendar_for(message)
    if message.room is not None:  # a drop-in room: one recurring event (integrations/room.py)
        text = room_text(message.room) + answers_text({}, message.unsubscribe_url)
        html = f"<html><body><pre>{escape(room_text(message.room))}</pre></body></html>"
        html = html.replace(
            "</body></html>", answers_html({}, message.unsubscribe_url) + "</body></html>"
        )
    else:
        text = render_text(invite, message.recipient) + answers_text(links, message.unsubscribe_url)
        html = render_html(invite, message.recipient).replace(
            "</body></html>", answers_html(links, message.unsubscribe_url) + "</body></html>"
        )
    # The calendar goes base64, so its CRLF line ends survive exactly (encoded once, sent twice).
    encoded = mime.base64_body(calendar)
    alternative = mime.multipart(
        "alternative",
        [
            mime.text_part(text),
            mime.text_part(html, "html"),
            mime.binary_part(
                calendar,
                f'text/calendar; method="{invite.method}"; charset="UTF-8"',
                body=encoded,
            ),
        ],
        mime.boundary(message.key, 2),
    )
    attachment = mime.binary_part(
        calendar,
        "application/ics",
        ['Content-Disposition: attachment; filename="invite.ics"'],
        body=encoded,
    )
    body = mime.multipart("mixed", [alternative, attachment], mime.boundary(message.key, 1))
    return _headers(message, mail_from, mail_from_name, subject_for(message), date) + body


def render_nudge_email(
    message: Message, mail_from: str, mail_from_name: str = "Fika", *, date: datetime | None = None
) -> bytes:
    """A reminder, check-in or pause offer: one plain-text part, no calendar (see nudges.py)."""
    with _in_language(message):
        return _render_nudge_email(message, mail_from, mail_from_name, date)


def _render_nudge_email(
    message: Message, mail_from: str, mail_from_name: str, date: datetime | None
) -> bytes:
    body = mime.text_part(nudges.render_nudge_text(message))
    return _headers(message, mail_from, mail_from_name, nudges.subject_for(message), date) + body


def _headers(
    message: Message, mail_from: str, mail_from_name: str, subject: str, date: datetime | None
) -> bytes:
    """The headers every Fika email carries, up to and including MIME-Version."""
    domain = mail_from.rpartition("@")[2] or "localhost"
    fields = [
        ("Subject", mime.unstructured("Subject", subject)),
        ("From", mime.address(mail_from_name, mail_from)),
        ("To", mime.address_list([(a.name, a.email) for a in message.recipients])),
        ("Date", mime.date(date or datetime.now(UTC))),
        ("Message-ID", message_id(message.key, domain)),
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: no vacation auto-replies
    ]
    if message.unsubscribe_url:
        fields.append(("List-Unsubscribe", f"<{message.unsubscribe_url}>"))
        fields.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    fields.append(("MIME-Version", "1.0"))
    return mime.headers(fields)


def build_email(
    message: Message,
    mail_from: str,
    mail_from_name: str = "Fika",
    *,
    date: datetime | None = None,
) -> EmailMessage:
    """:func:`render_email` parsed back, as a receiving client sees it (tests, previews)."""
    return mime.parse(render_email(message, mail_from, mail_from_name, date=date))


def _smtp_error(error: smtplib.SMTPResponseException | tuple[int, bytes]) -> DeliveryError:
    """Classify an SMTP reply: 4xx may succeed later, 5xx will not."""
    if isinstance(error, tuple):
        code, text = error
    else:
        code, text = error.smtp_code, error.smtp_error
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return DeliveryError(f"SMTP {code}: {reply}", transient=400 <= code < 500)


@dataclass(frozen=True)
class Rendered:
    """A message with the bytes that will be sent for it (see :meth:`EmailChannel.prepare`)."""

    message: Message
    raw: bytes


#: An address smtplib's ``quoteaddr`` writes as ``<address>`` (a dot-atom local part, a plain
#: domain): parsing it there (``email.utils.parseaddr``) costs a tenth of a worker's CPU per email.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z"
)


class _PlainAddresses:
    """``MAIL FROM`` and ``RCPT TO`` for plain addresses written without parsing them; the same
    commands smtplib sends (tests compare the two); anything else goes through smtplib."""

    def mail(self, sender, options=()):
        if not _PLAIN_ADDRESS.match(sender) or any(o.lower() == "smtputf8" for o in options):
            return super().mail(sender, options)
        optionlist = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("mail", f"FROM:<{sender}>{optionlist}")
        return self.getreply()

    def rcpt(self, recip, options=()):
        if not _PLAIN_ADDRESS.match(recip):
            return super().rcpt(recip, options)
        optionlist = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("rcpt", f"TO:<{recip}>{optionlist}")
        return self.getreply()


class _SMTP(_PlainAddresses, smtplib.SMTP):
    pass


class _SMTPS(_PlainAddresses, smtplib.SMTP_SSL):
    pass


#: Calendars kept for the groups whose members are being sent (see EmailChannel._calendar).
CALENDARS_KEPT = 64


class EmailChannel:
    """Sends each message over one SMTP connection per batch; one failure never stops the rest.

    ``stream`` keeps no state of its own but its connection, so the dispatcher may run several
    at once, one per connection (``concurrent``); they share the calendars of recent groups.
    """

    name = "email"
    concurrent = True

    def __init__(
        self,
        settings: SmtpSettings,
        mail_from: str,
        mail_from_name: str = "Fika",
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.settings = settings
        self.mail_from = mail_from
        self.mail_from_name = mail_from_name
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._calendars: OrderedDict[object, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def connect(self) -> smtplib.SMTP:
        """Open, secure and authenticate a connection as the URL says (the caller closes it)."""
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = _SMTPS(s.host, s.port, timeout=self.timeout, context=self.ssl_context)
        else:
            smtp = _SMTP(s.host, s.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _calendar(self, message: Message) -> bytes:
        """The group's calendar object, built once for all its members.

        Members are queued one after another, but several connections may send them, so the
        last few calendars are kept for all of them (building one costs more than the rest of
        the message).
        """
        # Each language has its own words in the calendar (SUMMARY, DESCRIPTION); UID,
        # SEQUENCE and times are the same in all of them.
        source = (message.room if message.room is not None else message.invite, current_language())
        with self._lock:
            calendar = self._calendars.get(source)
        if calendar is None:
            calendar = calendar_for(message)
            with self._lock:
                self._calendars[source] = calendar
                while len(self._calendars) > CALENDARS_KEPT:
                    self._calendars.popitem(last=False)
        return calendar

    def render(self, message: Message) -> bytes:
        """The bytes of one message, in its reader's language (``ValueError`` for a header
        that would inject)."""
        with _in_language(message):
            if message.kind not in (MessageKind.INVITE, MessageKind.ROOM):
                # reminders, check-ins: plain mail, no calendar
                return render_nudge_email(message, self.mail_from, self.mail_from_name)
            calendar = self._calendar(message)  # every member of a group gets the same one
            return render_email(message, self.mail_from, self.mail_from_name, calendar=calendar)

    def prepare(self, message: Message) -> Message | Rendered:
        """The message rendered ahead of its turn, so a connection can build its next message
        while it waits to send it (the dispatcher's lanes do); :meth:`stream` takes either.
        A message that cannot be rendered is given back as it is: sending it says why."""
        try:
            return Rendered(message, self.render(message))
        except (ValueError, TypeError):
            return message

    def _send_one(self, smtp: smtplib.SMTP, item: Message | Rendered) -> DeliveryError | None:
        if isinstance(item, Rendered):
            message, raw = item.message, item.raw
        else:
            message, raw = item, self.render(item)
        to = [a.email for a in message.recipients]
        # Internationalised addresses need the server's SMTPUTF8 (RFC 6531).
        options = [] if all(a.isascii() for a in [self.mail_from, *to]) else ["SMTPUTF8"]
        try:
            refused = smtp.sendmail(self.mail_from, to, raw, mail_options=options)
        except smtplib.SMTPNotSupportedError as error:
            return DeliveryError(f"{error}: needed for {', '.join(to)}", transient=False)
        if refused:
            return _smtp_error(next(iter(refused.values())))
        return None

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Deliver a batch on one connection; every result, once all were tried."""
        return list(self.stream(messages))

    def stream(self, messages: Iterable[Message | Rendered]) -> Iterator[DeliveryError | None]:
        """Deliver a batch on one connection (reopened if the server drops it mid-batch),
        yielding each outcome as soon as the server answers, so the outbox can record it at
        once. The next message goes out only when the caller asks for its outcome. Each may
        be a message or one :meth:`prepare` rendered ahead."""
        smtp: smtplib.SMTP | None = None
        connect_error: DeliveryError | None = None
        try:
            for message in messages:
                if smtp is None and connect_error is None:
                    try:
                        smtp = self.connect()
                    except smtplib.SMTPAuthenticationError as error:
                        connect_error = DeliveryError(
                            f"SMTP login failed for {self.settings.username}: {error.smtp_code}",
                            transient=False,
                        )
                    except smtplib.SMTPNotSupportedError as error:
                        connect_error = DeliveryError(
                            f"SMTP server {self.settings.host} cannot do what FIKA_SMTP_URL "
                            f"asks: {error}",
                            transient=False,
                        )
                    except smtplib.SMTPResponseException as error:
                        connect_error = _smtp_error(error)
                    except (OSError, smtplib.SMTPException) as error:
                        connect_error = DeliveryError(
                            f"cannot connect to SMTP {self.settings.host}:{self.settings.port}: "
                            f"{error}",
                            transient=True,
                        )
                if smtp is None:
                    # The server is unreachable: fail the rest quickly instead of timing out
                    # once per message.
                    yield connect_error
                    continue
                try:
                    outcome = self._send_one(smtp, message)
                except smtplib.SMTPRecipientsRefused as error:
                    outcome = _smtp_error(next(iter(error.recipients.values())))
                except smtplib.SMTPResponseException as error:
                    outcome = _smtp_error(error)
                    if smtp.sock is None:  # e.g. 421: the server closed the connection
                        smtp = None
                except (ValueError, TypeError) as error:
                    # e.g. a header the email package refuses: this message only, not the batch
                    outcome = DeliveryError(f"cannot build the email: {error}", transient=False)
                except (OSError, smtplib.SMTPException) as error:
                    outcome = DeliveryError(f"SMTP connection lost: {error}", transient=True)
                    smtp.close()
                    smtp = None
                yield outcome
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()
