"""The opt-in form at ``/``: join with a few details, see when the first break is.

The first break comes from ``core.next_break``, the same answer /me gives once signed in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core import changes, signin
from core.db import db
from core.i18n import current_language
from core.models import Person, Programme
from core.next_break import next_break_for_applicant
from core.programmes import Applicant, check_programmes
from web import transactions
from web.config import current_settings
from web.forms import OptInForm, chosen_language, topic_list
from web.per_process import kept
from web.programmes import (
    cached_or_default,
    chosen_ids,
    default_programme,
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


def applicant_from(form: OptInForm) -> Applicant:
    """The person the form describes, as typed (the address lower-cased, as it is stored)."""
    return Applicant(
        email=form.email.data.strip().lower(),
        name=form.name.data.strip(),
        department=form.department.data.strip(),
        home_office=None if form.remote.data else form.office.data.strip(),
        timezone=form.timezone.data,
        language=chosen_language(form.language),
        topics=tuple(topic_list(form.topics.data)),
        share_topics=tuple(topic_list(form.share_topics.data)),
    )


def remind_existing_person(person: Person) -> None:
    """Email someone who already has an account a sign-in link instead of changing them.

    A link to their preferences, or to the page that lets them join again if they left.
    """

    pref = person.preference
    left = pref is not None and not pref.active
    next_url = url_for("account.pause" if left else "account.preferences")
    link = signin.issue_link(current_settings(), person, next_url)
    signin.send_link(current_settings(), person, link, reason="left" if left else "already_in")


#: The person by (lower-case) email with their preferences; built once, run with ``email``.
_PERSON_BY_EMAIL = (
    select(Person).where(Person.email == bindparam("email")).options(joinedload(Person.preference))
)


def _store_if_new(applicant: Applicant, ids: list[int] | None) -> Person | None:
    """Add the applicant when the address is new (committed); else the person who has it.

    Two first submits of one address may race: the loser's INSERT finds the address taken
    (``ON CONFLICT DO NOTHING``, or fails on the unique email at the flush or the commit when
    programmes were chosen), and that address is then known like any other.
    """
    if not ids:  # the usual join: one INSERT, no ORM objects (``core.changes.join_if_new``)
        person_id = changes.join_if_new(applicant)
        db.session.commit()
        if person_id is not None:
            return None
        return db.session.scalar(_PERSON_BY_EMAIL, {"email": applicant.email})
    known = db.session.scalar(_PERSON_BY_EMAIL, {"email": applicant.email})
    if known is not None:
        return known
    try:
        changes.join(current_settings(), applicant, ids)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(_PERSON_BY_EMAIL, {"email": applicant.email})
    return None


@bp.route("/", methods=["GET", "POST"])
def join():
    """Show the opt-in form; on a valid POST add the person and confirm the first break.

    Only a new address is stored. For one that is already known nothing changes (only its
    owner, signed in, may change it): its owner gets a sign-in link by email, and the page
    answers exactly as it does for a new address, so the form tells nobody who takes part.
    """
    if request.method != "POST":  # GET or HEAD
        return blank_form_page()
    form = OptInForm(default_zone=current_settings().timezone)
    programme_error = None
    if form.validate_on_submit():
        applicant = applicant_from(form)
        try:
            ids = submitted_programme_ids(request.form)
            chosen = check_programmes(applicant, ids) if ids else []
        except ValueError as error:
            programme_error = str(error)
        else:
            if not ids:  # the join is one statement (see _store_if_new): no transaction needed
                transactions.statements_commit_alone()
            programmes = chosen or [default_programme()]
            upcoming = next_break_for_applicant(applicant, programmes, datetime.now(UTC))
            # Rendered from the form alone, before anything is stored.
            page = render_template(
                "joined.html",
                person=applicant,
                programme=upcoming.programme if upcoming else programmes[0],
                next_break=upcoming,
                zone=ZoneInfo(applicant.timezone),
            )
            known = _store_if_new(applicant, ids)
            if known is not None:
                remind_existing_person(known)  # commits its single-use link
            return page
    return render_template(
        "join.html",
        form=form,
        offices=office_suggestions(),
        choices=programme_choices(),
        chosen=chosen_ids(request.form),
        programme_error=programme_error,
    ), 400


@dataclass(frozen=True)
class _BlankPage:
    """The form page as a first visit sees it, for one set of programmes and offices."""

    programmes: tuple[Programme, ...]
    offices: list[str]
    script_root: str
    language: str  # the page's language: one kept page per language
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
    root, language = request.script_root, current_language()
    pages = current_app.extensions.setdefault("fika_blank_form", {})
    page = pages.get(language)
    if page is None or not (
        page.programmes is programmes and page.offices is offices and page.script_root == root
    ):
        html = render_template(
            "join.html",
            form=OptInForm(default_zone=current_settings().timezone),
            offices=offices,
            choices=programme_choices(programmes),
            chosen=set(),
            programme_error=None,
            csrf_token=lambda: _TOKEN_SLOT,
        )
        page = _BlankPage(programmes, offices, root, language, tuple(html.split(_TOKEN_SLOT)))
        pages[language] = page  # threads may both render: same page
    if len(page.pieces) == 1:  # CSRF switched off (tests): no token, no session
        return page.pieces[0]
    return generate_csrf().join(page.pieces)  # the visitor's token in every slot
