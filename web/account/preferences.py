"""My preferences, pause and leave: the signed-in person changes only their own rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select

from core import changes
from core.changes import Preferences, set_programmes
from core.db import db
from core.enums import Frequency, GroupSizePreference
from core.i18n import gettext as _
from core.i18n import ngettext
from core.models import WEEKDAYS, Person, Preference
from core.programmes import open_programmes, programmes_for
from core.text import is_plain_text
from web.account import bp
from web.account.forms import ConfirmForm, PauseForm, PreferencesForm
from web.auth import current_person, login_required
from web.config import current_settings
from web.forms import AUTOMATIC, chosen_language, topic_list
from web.i18n import date_filter, refresh_language
from web.optin import known_offices
from web.programmes import submitted_programme_ids

SEARCH_RESULTS = 20


def _preference(person: Person) -> Preference:
    if person.preference is None:
        person.preference = Preference()
        db.session.flush()
    return person.preference


def search_colleagues(person: Person, query: str) -> list[Person]:
    """People in the organisation whose name contains ``query`` (never the viewer).

    Names are one line of text (``core.text``), so a query with a control character matches
    nobody; it is not sent to the database, which may not even take it (NUL in PostgreSQL).
    """
    text = " ".join(query.split())[:100]
    if len(text) < 2 or not is_plain_text(text):
        return []
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    return list(
        db.session.scalars(
            select(Person)
            .where(func.lower(Person.name).like(pattern, escape="\\"), Person.id != person.id)
            .order_by(Person.name)
            .limit(SEARCH_RESULTS)
        )
    )


@bp.get("/colleagues")
def colleagues():
    """Names for the avoid list's suggestions as the person types (fika.js fills a datalist).

    JSON ``{"people": [{"id", "name", "department"}]}``: the same people, and only what, the
    Search button shows (never an email). Signed-in people only: 401 with a JSON reason.
    """
    person = current_person()
    if person is None:
        return jsonify(error=_("Sign in to search your colleagues.")), 401
    found = search_colleagues(person, request.args.get("q", ""))
    people = [{"id": p.id, "name": p.name, "department": p.department} for p in found]
    response = jsonify(people=people)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _existing_ids(ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(db.session.scalars(select(Person.id).where(Person.id.in_(ids))))


def _offices(person: Person, pref: Preference) -> list[str]:
    """Known offices, plus any this person already named (so their own choice stays valid)."""
    offices = set(known_offices())
    offices.update(s for s in (pref.weekday_sites or {}).values() if s)
    return sorted(offices)


def _fill(form: PreferencesForm, person: Person, pref: Preference) -> None:
    form.mode.data = pref.mode
    form.timezone.data = person.timezone
    form.work_start.data = person.work_start
    form.work_end.data = person.work_end
    form.frequency.data = pref.frequency or Frequency.DAILY
    form.group_size_pref.data = pref.group_size_pref or GroupSizePreference.SMALL_GROUPS
    form.topics.data = ", ".join(pref.topics or [])
    form.share_topics.data = ", ".join(pref.share_topics or [])
    form.avoid.data = list(pref.avoid or [])
    form.reminders.data = pref.reminders
    form.language.data = person.language or AUTOMATIC
    for day in WEEKDAYS:
        form[f"day_{day}"].data = day in (pref.days or [])
        site = pref.site_on(_weekday_date(day), person.home_office)
        form[f"site_{day}"].data = site or "remote"


def _weekday_date(day: str) -> date:
    """Some date falling on ``day`` (site_on wants a date)."""
    return date(2024, 1, 1 + WEEKDAYS.index(day))  # 2024-01-01 was a Monday


def _chosen(form: PreferencesForm, person: Person, pref: Preference) -> Preferences:
    """What the form says, as the core's change takes it."""
    kept = {d: pref.site_on(_weekday_date(d), person.home_office) for d in WEEKDAYS}
    return Preferences(
        timezone=form.timezone.data,
        work_start=form.work_start.data,
        work_end=form.work_end.data,
        mode=form.mode.data,
        frequency=form.frequency.data,
        group_size_pref=form.group_size_pref.data,
        topics=topic_list(form.topics.data),
        share_topics=topic_list(form.share_topics.data),
        avoid=sorted(set(form.avoid.data or [])),
        reminders=bool(form.reminders.data),
        days=form.chosen_days(),
        weekday_sites=form.chosen_sites(kept),
        language=chosen_language(form.language),
    )


def stored_preferences_form(person: Person) -> PreferencesForm:
    """The preferences form holding what is stored, without a request's form data or CSRF.

    Slack's preferences modal (``web/chat/slack_home.py``) sets the fields it asks on it and
    validates the whole form, so a chat change passes exactly the page's checks.
    """
    pref = _preference(person)
    form = PreferencesForm(
        formdata=None,
        meta={"csrf": False},
        offices=_offices(person, pref),
        person_id=person.id,
        known_ids=_existing_ids,
    )
    _fill(form, person, pref)
    return form


def save_preferences_form(person: Person, form: PreferencesForm) -> None:
    """Store a validated form: the page's one write (``core.changes.save_preferences``)."""
    changes.save_preferences(person, _chosen(form, person, _preference(person)))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    """Show and change how, where and when I take part; the avoid list searches by name."""
    person = current_person()
    pref = _preference(person)
    form = PreferencesForm(
        offices=_offices(person, pref), person_id=person.id, known_ids=_existing_ids
    )
    searching = "search" in request.form  # the Search button: keep unsaved edits, save nothing
    programme_error = None
    chosen_programmes = {p.id for p in programmes_for(person)}
    if request.method == "POST":
        try:
            ids = submitted_programme_ids(request.form)
        except ValueError as error:
            ids, programme_error = None, str(error)
        if ids is not None:
            chosen_programmes = set(ids)
            if not ids:
                programme_error = _("Choose at least one programme (or pause or leave instead).")
    if request.method == "GET":
        _fill(form, person, pref)
    elif not searching and form.validate_on_submit() and programme_error is None:
        if ids is not None:
            try:
                # Drop-in rooms write their invite or cancel here.
                set_programmes(current_settings(), person, ids)
            except ValueError as error:
                programme_error = str(error)
        if programme_error is None:
            changes.save_preferences(person, _chosen(form, person, pref))
            refresh_language()  # the confirmation speaks the language just chosen
            flash(_("Your preferences are saved."))
            return redirect(url_for("account.preferences"))
        db.session.rollback()
    query = (request.form if searching else request.args).get("q", "")
    matches = search_colleagues(person, query)
    chosen = set(form.avoid.data or [])
    listed = db.session.scalars(select(Person).where(Person.id.in_(chosen))).all() if chosen else []
    status = 400 if form.errors or programme_error else 200
    return (
        render_template(
            "account/preferences.html",
            person=person,
            form=form,
            choices=open_programmes(person),
            chosen=chosen_programmes,
            programme_error=programme_error,
            query=query,
            matches=[p for p in matches if p.id not in chosen],
            avoided=sorted(listed, key=lambda p: p.name),
        ),
        status,
    )


def today_for(person: Person) -> date:
    """Today in the person's own zone (a pause 'until Monday' means their Monday)."""
    return datetime.now(UTC).astimezone(ZoneInfo(person.timezone)).date()


@bp.route("/pause", methods=["GET", "POST"])
@login_required
def pause():
    """Pause until a date (breaks before it are given up), resume, leave or join again."""
    person = current_person()
    pref = _preference(person)
    today = today_for(person)
    form = PauseForm(today=today)
    if form.validate_on_submit():
        until = form.resume_on()
        touched = changes.pause(current_settings(), person, until)
        day = date_filter(until, format="day_year")
        if touched:
            flash(
                ngettext(
                    "Paused: you take part again on %(day)s. %(num)d upcoming break was given up.",
                    "Paused: you take part again on %(day)s. "
                    "%(num)d upcoming breaks were given up.",
                    touched,
                    day=day,
                )
            )
        else:
            flash(_("Paused: you take part again on %(day)s.", day=day))
        return redirect(url_for("account.pause"))
    paused = pref.paused_until if pref.paused_until and pref.paused_until > today else None
    return (
        render_template(
            "account/pause.html",
            person=person,
            pref=pref,
            form=form,
            paused=paused,
            confirm=ConfirmForm(),
            org=current_settings().org_name,
        ),
        400 if form.errors else 200,
    )


@bp.post("/resume")
@login_required
def resume():
    """End a pause now."""
    _preference(current_person())
    changes.resume(current_settings(), current_person())
    flash(_("Welcome back: you take part from the next round."))
    return redirect(url_for("account.pause"))


@bp.post("/leave")
@login_required
def leave():
    """Stop taking part (upcoming breaks are updated or cancelled); the account stays."""
    changes.leave(current_settings(), current_person())
    flash(_("You have left the coffee breaks. Join again here any time."))
    return redirect(url_for("account.pause"))


@bp.post("/rejoin")
@login_required
def rejoin():
    """Take part again after leaving."""
    changes.rejoin(current_person())
    flash(_("You are back in: you take part from the next round."))
    return redirect(url_for("account.pause"))
