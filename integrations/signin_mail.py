"""The sign-in email: a plain-text message with a magic link, sent at once.

Sign-in links are not invites, so they bypass the outbox on purpose: a link that waits for the
next worker run (or is retried an hour later) is useless, and the outbox table would keep a live
credential in its payload. They go straight to the SMTP server from ``FIKA_SMTP_URL`` (the same
connection code as the invites), or, with no mail server configured, into the outbox folder as an
``.eml`` file, so a demo or a single-host trial can still sign in.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Literal

from core.i18n import N_, ngettext, using
from core.i18n import gettext as _
from integrations.base import DeliveryError, first_name
from integrations.email import EmailChannel, SmtpSettings
from integrations.outbox_dir import safe_filename, write_atomically

#: Why the link is sent: asked for on the sign-in page; or the opt-in form was filled in with
#: the address of someone who already takes part ("already_in") or who left ("left").
Reason = Literal["sign_in", "already_in", "left"]

SUBJECTS: dict[str, str] = {
    "sign_in": N_("Your sign-in link for Fika"),
    "already_in": N_("You already take part in the coffee breaks"),
    "left": N_("Join the coffee breaks again"),
}


@dataclass(frozen=True)
class SignInMail:
    """What one sign-in email says, and to whom."""

    to_name: str
    to_email: str
    link: str
    minutes: int
    org_name: str
    mail_from: str
    mail_from_name: str = "Fika"
    reason: Reason = "sign_in"
    language: str | None = None  # the reader's; None: the organisation's (FIKA_LANGUAGE)


def _opening(mail: SignInMail) -> str:
    """The paragraph before the link: why this email came."""
    if mail.reason == "sign_in":
        return (
            _(
                "here is your link to sign in to Fika, the coffee breaks at %(org)s.",
                org=mail.org_name,
            )
            + "\n"
        )
    if mail.reason == "already_in":
        return _(
            "someone, probably you, filled in the sign-up form for the coffee breaks at %(org)s "
            "with this address. You already take part, so nothing was changed.\n"
            "To change your details or preferences, or to pause, use this link.\n",
            org=mail.org_name,
        )
    return _(
        "someone, probably you, filled in the sign-up form for the coffee breaks at %(org)s "
        "with this address. You left the coffee breaks earlier, so nothing was changed.\n"
        'To take part again, open this link and choose "Join again".\n',
        org=mail.org_name,
    )


def build_signin_email(mail: SignInMail, *, date: datetime | None = None) -> EmailMessage:
    """A short plain-text message: no HTML, no tracking, the link on a line of its own."""
    with using(mail.language):
        return _signin_email(mail, date)


def _signin_email(mail: SignInMail, date: datetime | None) -> EmailMessage:
    first = first_name(mail.to_name)
    body = (
        _("Hello %(name)s,", name=first)
        + "\n\n"
        + _opening(mail)
        + ngettext(
            "It works once and expires in %(num)d minute:",
            "It works once and expires in %(num)d minutes:",
            mail.minutes,
        )
        + f"\n\n{mail.link}\n\n"
        + _(
            "If you did not ask for it, you can ignore this email: nobody can sign in without "
            "the link."
        )
        + "\n"
    )
    digest = hashlib.sha256(mail.link.encode()).hexdigest()[:32]
    domain = mail.mail_from.rpartition("@")[2] or "localhost"
    email = EmailMessage(policy=policy.SMTP)
    email["Subject"] = _(SUBJECTS[mail.reason])
    email["From"] = formataddr((mail.mail_from_name, mail.mail_from))
    email["To"] = Address(mail.to_name, addr_spec=mail.to_email)
    email["Date"] = format_datetime(date or datetime.now(UTC))
    email["Message-ID"] = f"<fika.signin.{digest}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(body, cte="quoted-printable")
    return email


def send_signin_email(email: EmailMessage, smtp: SmtpSettings, mail_from: str) -> None:
    """Hand the message to the SMTP server now; raises DeliveryError when it is refused."""
    channel = EmailChannel(smtp, mail_from, timeout=15.0)
    try:
        connection = channel.connect()
    except OSError as error:
        raise DeliveryError(
            f"cannot reach SMTP {smtp.host}:{smtp.port}: {error}", transient=True
        ) from None
    to = email["To"].addresses[0].addr_spec
    try:
        refused = connection.send_message(email, from_addr=mail_from, to_addrs=[to])
        if refused:
            raise DeliveryError(f"SMTP refused {to}: {refused}", transient=False)
    except OSError as error:  # smtplib errors are OSErrors too
        raise DeliveryError(f"SMTP failed: {error}", transient=True) from None
    finally:
        connection.close()


def write_signin_email(email: EmailMessage, folder: str | os.PathLike[str]) -> Path:
    """Write the message as ``signin-….eml`` into the outbox folder (no mail server set)."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    name = safe_filename(f"signin-{stamp}-{email['Message-ID'].strip('<>').split('@')[0]}")
    target = path / f"{name}.eml"
    write_atomically(target, email.as_bytes())
    return target
