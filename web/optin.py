"""The opt-in form at ``/``: join (or update) with a few details, see when the first break is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from web.extensions import db
from web.forms import OptInForm
from web.models import Person, Preference, Programme
from web.per_process import kept
from web.programmes import (
    cached_or_default,
    default_programme,
    next_break,
    set_programmes,
    submitted_programme_ids,
)

bp = Blueprint("optin", __name__)

#: Seconds the form's office suggestions are reused (per process) before they are read again.
OFFICE_SUGGESTIONS_SECONDS = 60.0


def known_offices() -> list[str]:
    """Offices people already named, for the form's suggestions."""
    rows = db.session.scalars(
        select(Person.home_office).where(Person.home_office.is_not(None)).distinct()
    )
    return sorted(o for o in rows if o)


def office_suggestions() -> list[str]:
    """:func:`known_offices` for the form's datalist, read at most once a minute per process.

    The list is only a hint (any office may be typed), while reading it is a DISTINCT over every
    person on each anonymous page view, which grows with the organisation. Validation (the
    preferences page) still reads :func:`known_offices` fresh.
    """
    return kept("office suggestions", OFFICE_SUGGESTIONS_SECONDS, known_offices)


def programme_choices(programmes: tuple[Programme, ...] | None = None) -> list[Programme]:
    """The programmes switched on, oldest first (read-only copies); on a fresh install the default.

    ``programmes``: the copies to choose from, when the caller holds them already.

    A choice that was switched off in another worker a few seconds ago may still be shown;
    choosing it is refused with a message (``set_programmes`` checks the database).
    """
    return [p for p in programmes or cached_or_default() if p.active]


def as_sentence(message: str) -> str:
    """'choose at least one programme' -> 'Choose at least one programme.' for a form message."""
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def upsert_person(form: OptInForm) -> tuple[Person, bool]:
    """Store the person by email (case-insensitively) with active preferences; True if new.

    Flushed, not committed: the caller commits once the programme choice is stored too.
    """
    email = form.email.data.strip().lower()
    person = db.session.scalar(_PERSON_BY_EMAIL, {"email": email})
    created = person is None
    if created:
        person = Person(email=email)
        db.session.add(person)
    _change(
        person,
        name=form.name.data.strip(),
        department=form.department.data.strip(),
        timezone=form.timezone.data,
        home_office=None if form.remote.data else form.office.data.strip(),
    )
    if person.preference is None:
        person.preference = Preference()
    _change(person.preference, active=True, paused_until=None)
    if not form.remote.data:
        # A fresh opt-in says where they work; per-weekday overrides come from the preferences page.
        _change(person.preference, weekday_sites={})
    db.session.flush()
    return person, created


#: The person by (lower-case) email with their preferences; built once, run with ``email``.
_PERSON_BY_EMAIL = (
    select(Person).where(Person.email == bindparam("email")).options(joinedload(Person.preference))
)


def _change(row: object, **values: object) -> None:
    """Set the attributes whose value differs: an unchanged re-submit leaves the rows clean."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


@bp.route("/", methods=["GET", "POST"])
def join():
    """Show the opt-in form; on a valid POST store the person and confirm the first break."""
    if request.method != "POST":  # GET or HEAD
        return blank_form_page()
    form = OptInForm(default_zone=current_app.config["FIKA_TIMEZONE"])
    programme_error = None
    if form.validate_on_submit():
        try:
            ids = submitted_programme_ids(request.form)
            person, created = upsert_person(form)
            chosen = set_programmes(person, ids) if ids else []  # rooms write their invite
        except ValueError as error:
            db.session.rollback()
            programme_error = as_sentence(str(error))
        else:
            programme = chosen[0] if chosen else default_programme()
            start = next_break(programme, datetime.now(UTC))
            local = start.astimezone(ZoneInfo(person.timezone)) if start else None
            # Rendered before the one commit, which expires the rows the page reads.
            page = render_template(
                "joined.html", person=person, created=created, programme=programme, start=local
            )
            db.session.commit()
            return page
    return render_template(
        "join.html",
        form=form,
        offices=office_suggestions(),
        choices=programme_choices(),
        chosen=set(int(i) for i in request.form.getlist("programmes") if i.isdigit()),
        programme_error=programme_error,
    ), 400


@dataclass(frozen=True)
class _BlankPage:
    """The form page as a first visit sees it, for one set of programmes and offices."""

    programmes: tuple[Programme, ...]
    offices: list[str]
    script_root: str
    pieces: tuple[str, ...]  # the page split at each token slot: one piece when CSRF is off


#: Stands for the CSRF token in the kept blank page; each view puts its own token in its place.
_TOKEN_SLOT = "csrf-slot-" + uuid.uuid4().hex


def blank_form_page() -> str:
    """The opt-in form with nothing filled in, rendered once per process and input, not per view.

    Everyone opens this page, mostly all at once when the coffee breaks are announced, and it
    differs between visitors only in the CSRF token. The page is rendered again when the
    programmes or office suggestions it shows are read again (the kept copies are compared by
    identity, so it follows their expiry and the in-process invalidation exactly); each view
    then costs one token and a string replace instead of building and rendering the form.
    """
    programmes, offices = cached_or_default(), office_suggestions()
    root = request.script_root
    page = current_app.extensions.get("fika_blank_form")
    if page is None or not (
        page.programmes is programmes and page.offices is offices and page.script_root == root
    ):
        html = render_template(
            "join.html",
            form=OptInForm(default_zone=current_app.config["FIKA_TIMEZONE"]),
            offices=offices,
            choices=programme_choices(programmes),
            chosen=set(),
            programme_error=None,
            csrf_token=lambda: _TOKEN_SLOT,
        )
        page = _BlankPage(programmes, offices, root, tuple(html.split(_TOKEN_SLOT)))
        current_app.extensions["fika_blank_form"] = page  # threads may both render: same page
    if len(page.pieces) == 1:  # CSRF switched off (tests): no token, no session
        return page.pieces[0]
    return generate_csrf().join(page.pieces)  # the visitor's token in every slot
