"""Magic sign-in links: issue one (a signed token plus a single-use row), redeem it once.

The link carries ``make_token(key, "signin", [secret, next])``: the signature rejects forged or
expired links (30 minutes) before any query. The database keeps only a SHA-256 of the secret and
marks the row used in the same UPDATE that checks it is unused, so two clicks sign in once.

The email leaves at once, on a short background thread, so the sign-in page answers in the same
time whether or not the address is known (no probing for who works here by timing).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import delete, or_, select, update

from core.db import db
from core.models import Person, SignInToken
from core.settings import Settings
from core.signing import make_token, read_token
from integrations.base import DeliveryError
from integrations.email import SmtpSettings
from integrations.signin_mail import (
    Reason,
    SignInMail,
    build_signin_email,
    send_signin_email,
    write_signin_email,
)

log = logging.getLogger("fika.signin")

#: How long a sign-in link works.
LINK_MINUTES = 30


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def find_person(email: str) -> Person | None:
    """The person with ``email``, compared case-insensitively as the opt-in form stores it."""
    return db.session.scalar(select(Person).where(Person.email == email.strip().lower()))


def issue_link(
    settings: Settings, person: Person, next_url: str | None, now: datetime | None = None
) -> str:
    """Store a single-use token for ``person`` and return the absolute link that redeems it.

    ``next_url``: where to go once signed in, already checked by the caller (the web shell's
    ``safe_next``). Commits.
    """
    now = now or datetime.now(UTC)
    # Old links of this person are of no use to anyone: keep the table small.
    db.session.execute(
        delete(SignInToken).where(
            SignInToken.person_id == person.id,
            or_(SignInToken.used_at.is_not(None), SignInToken.expires_at < now),
        )
    )
    secret = secrets.token_urlsafe(32)
    db.session.add(
        SignInToken(
            person_id=person.id,
            secret_hash=_hash(secret),
            created_at=now,
            expires_at=now + timedelta(minutes=LINK_MINUTES),
        )
    )
    db.session.commit()
    token = make_token(settings.secret_key, "signin", [secret, next_url])
    return f"{settings.base_url}/me/sign-in/{token}"


def peek(settings: Settings, token: str) -> bool:
    """Whether ``token`` is a well-signed, unexpired link (the confirm page shows either way)."""
    return _read(settings, token) is not None


def _read(settings: Settings, token: str) -> tuple[str, str | None] | None:
    data = read_token(settings.secret_key, "signin", token, max_age=LINK_MINUTES * 60)
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], str)):
        return None
    return data[0], data[1] if isinstance(data[1], str) else None


def redeem(
    settings: Settings, token: str, now: datetime | None = None
) -> tuple[Person, str | None] | None:
    """The person a valid, unused link signs in (and where to go next); marks it used."""
    now = now or datetime.now(UTC)
    data = _read(settings, token)
    if data is None:
        return None
    secret, next_url = data
    row = db.session.scalar(select(SignInToken).where(SignInToken.secret_hash == _hash(secret)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    claimed = db.session.execute(
        update(SignInToken)
        .where(SignInToken.id == row.id, SignInToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # another click won the race
        db.session.rollback()
        return None
    db.session.commit()
    person = db.session.get(Person, row.person_id)
    return (person, next_url) if person else None


def send_link(
    settings: Settings, person: Person, link: str, reason: Reason = "sign_in"
) -> threading.Thread:
    """Email ``link`` now (SMTP) or write it to the outbox folder; never raises to the caller.

    ``reason`` says why (see :data:`integrations.signin_mail.Reason`).
    """
    name, address = parseaddr(settings.mail_from)
    mail = SignInMail(
        to_name=person.name,
        to_email=person.email,
        link=link,
        minutes=LINK_MINUTES,
        org_name=settings.org_name,
        mail_from=address or "fika@localhost",
        mail_from_name=name or "Fika",
        reason=reason,
        language=person.language,  # their own; None: the organisation's (FIKA_LANGUAGE)
    )
    smtp_url = settings.smtp_url
    folder = settings.outbox_dir or settings.default_outbox_dir
    thread = threading.Thread(
        target=_deliver, args=(mail, smtp_url, folder), name="fika-signin-mail", daemon=True
    )
    thread.start()
    return thread


def _deliver(mail: SignInMail, smtp_url: str | None, folder: str) -> None:
    email = build_signin_email(mail)
    try:
        if smtp_url:
            send_signin_email(email, SmtpSettings.from_url(smtp_url), mail.mail_from)
            log.info("sign-in link sent by email")
        else:
            path = write_signin_email(email, folder)
            log.info("sign-in link written to %s (no FIKA_SMTP_URL)", path)
    except (DeliveryError, OSError, ValueError) as error:
        # The page already answered; a person who gets nothing asks again.
        log.error("sign-in link not delivered: %s", error)
