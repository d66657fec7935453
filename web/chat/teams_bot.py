"""The Teams bot's messaging endpoint, ``/teams/messages``: opt-in in the 1:1 chat, link a team.

The Azure Bot's messaging endpoint is ``FIKA_BASE_URL`` + ``/teams/messages``. Every activity
is authenticated first (``integrations.bot_framework_auth``: the Bot Framework's signed JWT
for this bot's app id); a missing, forged, expired or foreign token gets 401 with a JSON reason.

* In the 1:1 chat (``conversationType`` personal) a message or the install greets the person
  with their card; its ``Action.Execute`` buttons (``adaptiveCard/action`` invokes) join, pause
  until a date, change meeting mode and group size, and show the next break. The answer is the
  refreshed card; bad input gets the same card with the error on top. The person is found by
  their email, read once from the connector (``GET …/members/{userId}``) and remembered by their
  Entra object id.
* Installed in a team, the bot posts a card offering to link a programme to the team; a Fika
  admin accepting it links the programme and adds the team's roster (paged members) to it.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from flask import current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select

from core.changes import Preferences, join, pause, rejoin, save_preferences
from core.channels import RememberedIds
from core.db import db
from core.enums import GroupSizePreference
from core.i18n import format_day, ngettext, using
from core.i18n import gettext as _
from core.models import Person, Programme
from core.next_break import next_break_for
from core.programmes import Applicant
from core.teams_roster import UNSET_DEPARTMENT, member_email, sync_roster
from core.teams_roster import link_team as store_link
from core.text import clean_text
from integrations.base import DeliveryError
from integrations.bot_framework_auth import (
    DEFAULT_OPENID_URL,
    BotAuthError,
    BotFrameworkAuth,
    KeysUnavailable,
)
from integrations.teams_connector import TeamsConnector
from pairing.model import Mode
from web.chat import bp
from web.chat.teams_cards import (
    JOIN,
    LINK_PROGRAMME,
    NEXT_BREAK,
    PAUSE,
    PAUSE_MAX_DAYS,
    PREFERENCES,
    card_message,
    invoke_response,
    link_card,
    person_card,
)
from web.config import current_settings
from web.extensions import csrf

log = logging.getLogger("fika.teams")

#: Teams' ids as the connector writes them ("29:1abc…", "a:1…", "19:…@thread.tacv2").
TEAMS_ID = re.compile(r"[A-Za-z0-9:@._\-=;]{1,300}")
GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: ExternalId namespaces: the person's Entra object id and 1:1 conversation, by email.
AAD_NAMESPACE, CONVERSATION_NAMESPACE = "teams_aad", "teams_conversation"
EXTENSION = "fika_teams_bot"


class BadActivity(Exception):
    """An authenticated activity Fika cannot act on (a 400 with this reason)."""


def _bot_settings() -> dict[str, str | None]:
    return dict(current_settings().channel_settings)


def _per_app() -> dict[str, Any]:
    """The verifier (its cached keys) and the connector (its token), one of each per app."""
    return current_app.extensions.setdefault(EXTENSION, {"lock": threading.Lock()})


def _auth(app_id: str) -> BotFrameworkAuth:
    openid_url = _bot_settings().get("FIKA_TEAMS_BOT_OPENID_URL") or DEFAULT_OPENID_URL
    kept = _per_app()
    with kept["lock"]:
        auth = kept.get("auth")
        if auth is None or (auth.app_id, auth.openid_url) != (app_id, openid_url):
            auth = kept["auth"] = BotFrameworkAuth(app_id, openid_url, session=requests.Session())
        return auth


def _connector() -> TeamsConnector:
    values = _bot_settings()
    kept = _per_app()
    with kept["lock"]:
        connector = kept.get("connector")
        if connector is None:
            tenant = values.get("FIKA_TEAMS_BOT_TENANT_ID") or ""
            connector = kept["connector"] = TeamsConnector(
                values.get("FIKA_TEAMS_BOT_APP_ID") or "",
                values.get("FIKA_TEAMS_BOT_APP_PASSWORD") or "",
                tenant,
                values.get("FIKA_TEAMS_BOT_AUTHORITY") or None,
                session=requests.Session(),
            )
        return connector


def _error(status: int, reason: str, **headers: str):
    response = jsonify(error=reason, status=status)
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.post("/teams/messages")
@csrf.exempt  # the Bot Framework's signed token is the proof of origin
def teams_messages():
    """An activity from Teams: authenticated, then answered (a card, or an invoke response)."""
    app_id = _bot_settings().get("FIKA_TEAMS_BOT_APP_ID")
    if not app_id:
        return _error(404, "The Teams bot is not configured (FIKA_TEAMS_BOT_APP_ID).")
    body = request.get_json(silent=True)
    activity = body if isinstance(body, dict) else {}
    try:
        _auth(app_id).verify(request.headers.get("Authorization"), activity)
    except BotAuthError as exc:
        log.info("teams: refused an activity: %s", exc.reason)
        return _error(401, f"Unauthorized: {exc.reason}", **{"WWW-Authenticate": "Bearer"})
    except KeysUnavailable as exc:
        log.warning("teams: cannot verify activities: %s", exc)
        return _error(
            503, "The Bot Framework's signing keys are unavailable.", **{"Retry-After": "60"}
        )
    if not activity:
        return _error(400, "Expected an activity as a JSON object.")
    try:
        # Not the request's Accept-Language (the Bot Framework's): the organisation's language,
        # and each person's own for their card (_card_for).
        with using(None):
            return _handle(activity)
    except BadActivity as exc:
        db.session.rollback()
        return _error(400, str(exc))


def _field(activity: dict[str, Any], *path: str) -> Any:
    node: Any = activity
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _teams_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not TEAMS_ID.fullmatch(value):
        raise BadActivity(f"{what}: not a Teams id")
    return value


def _service_url(activity: dict[str, Any]) -> str:
    url = activity.get("serviceUrl")
    if not isinstance(url, str) or not url.startswith("https://") or len(url) > 500:
        raise BadActivity("serviceUrl: expected an https URL")
    return url


def _handle(activity: dict[str, Any]):
    kind = activity.get("type")
    personal = _field(activity, "conversation", "conversationType") == "personal"
    if kind == "invoke":
        if activity.get("name") != "adaptiveCard/action":
            return jsonify(status=200), 200
        return jsonify(_invoke(activity, personal)), 200
    if kind == "message":
        _greet(activity, personal)
    elif kind == "conversationUpdate" and _bot_added(activity):
        _greet(activity, personal)
    elif kind == "installationUpdate" and str(activity.get("action", "")).startswith("add"):
        _greet(activity, personal)
    return "", 200


def _bot_added(activity: dict[str, Any]) -> bool:
    bot = _field(activity, "recipient", "id")
    added = activity.get("membersAdded")
    return isinstance(added, list) and any(
        isinstance(m, dict) and m.get("id") == bot for m in added
    )


def _greet(activity: dict[str, Any], personal: bool) -> None:
    """Post the person's card (1:1 chat) or the link card (a team) into the conversation."""
    service_url = _service_url(activity)
    conversation = _teams_id(_field(activity, "conversation", "id"), "conversation.id")
    if personal:
        sender = _identify(activity)
        card = _card_for(sender.person, error=sender.problem)
    else:
        card = link_card(_programmes(), linked=_linked(activity))
    try:
        _connector().send(service_url, conversation, card_message(card))
    except DeliveryError as exc:
        log.warning("teams: could not post the card to %s: %s", conversation, exc)


def _today(person: Person | None) -> date:
    zone = person.timezone if person is not None else current_settings().timezone
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


@dataclass
class Sender:
    """Who sent an activity: the Person (None if new to Fika), their email and Teams name, or
    the problem to show instead."""

    person: Person | None
    email: str | None = None
    name: str = ""
    problem: str | None = None


def _identify(activity: dict[str, Any]) -> Sender:
    """The person behind ``from``: by their remembered Entra object id, else the connector."""
    sender = activity.get("from") if isinstance(activity.get("from"), dict) else {}
    user_id = _teams_id(sender.get("id"), "from.id")
    aad = sender.get("aadObjectId")
    aad = aad.lower() if isinstance(aad, str) and GUID.fullmatch(aad) else None
    email = RememberedIds(AAD_NAMESPACE).key_for(aad) if aad else None
    name = ""
    if email is None:
        conversation = _teams_id(_field(activity, "conversation", "id"), "conversation.id")
        try:
            member = _connector().member(_service_url(activity), conversation, user_id)
        except DeliveryError as exc:
            log.warning("teams: member lookup for %s failed: %s", user_id, exc)
            return Sender(None, problem=_("Fika could not reach Teams. Try again soon."))
        email = member_email(member)
        if email is None:
            return Sender(None, problem=_("Teams did not tell Fika your email address."))
        name = clean_text(str(member.get("name") or ""))[:200]
        if aad:
            RememberedIds(AAD_NAMESPACE)[email] = aad
    if _field(activity, "conversation", "conversationType") == "personal":
        conversation = _field(activity, "conversation", "id")
        if isinstance(conversation, str) and TEAMS_ID.fullmatch(conversation):
            RememberedIds(CONVERSATION_NAMESPACE)[email] = conversation  # for proactive cards
    db.session.commit()
    person = db.session.scalar(select(Person).where(Person.email == email))
    return Sender(person, email, name)


def _inputs(activity: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    action = _field(activity, "value", "action")
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        raise BadActivity("value.action: expected an Action.Execute")
    verb = action.get("verb")
    data = action.get("data") if isinstance(action.get("data"), dict) else {}
    return (verb if isinstance(verb, str) else ""), data


def _invoke(activity: dict[str, Any], personal: bool) -> dict[str, Any]:
    verb, data = _inputs(activity)
    if verb == LINK_PROGRAMME:
        return invoke_response(_link(activity, data))
    sender = _identify(activity)
    person = sender.person
    if sender.problem:
        return invoke_response(_card_for(person, error=sender.problem))
    notice = error = next_text = None
    if verb == JOIN:
        person, notice = _join(sender)
    elif person is None or person.preference is None:
        error = _("Join first: Fika does not know you yet.")
    elif verb == PAUSE:
        notice, error = _pause(person, data.get("until"))
    elif verb == PREFERENCES:
        notice, error = _preferences(person, data)
    elif verb == NEXT_BREAK:
        next_text = _next_break_text(person)
    else:
        error = _("Fika does not know that button. Here is your card again.")
    if error:
        db.session.rollback()
    card = _card_for(person, notice=notice, error=error, next_break=next_text)
    return invoke_response(card)


def _card_for(person: Person | None, **messages: str | None) -> dict[str, Any]:
    """The person's card, in their own language when they chose one."""
    with using(person.language if person is not None else None):
        return person_card(person, _today(person), **messages)


def _join(sender: Sender) -> tuple[Person, str]:
    """Take part: someone new with what Teams tells (as the web form's join), or again."""
    settings = current_settings()
    person = sender.person
    if person is None:
        email = sender.email or ""
        applicant = Applicant(
            email=email,
            name=sender.name or email.split("@")[0],
            department=UNSET_DEPARTMENT,
            home_office=None,
            timezone=settings.timezone,
        )
        person = join(settings, applicant, None)
        db.session.commit()
    rejoin(person)
    return person, _("You're in: Fika will match you from the next round.")


def _pause(person: Person, until: Any) -> tuple[str | None, str | None]:
    today = _today(person)
    if not isinstance(until, str) or not until.strip():
        return None, _("Choose the date to pause until.")
    try:
        if not ISO_DATE.fullmatch(until.strip()):
            raise ValueError(until)
        day = date.fromisoformat(until.strip())
    except ValueError:
        return None, _("That is not a date: choose one in the date picker.")
    if day <= today:
        return None, _("Choose a date after today.")
    if day > today + timedelta(days=PAUSE_MAX_DAYS):
        return None, _("Choose a date within a year.")
    given_up = pause(current_settings(), person, day)
    if given_up:
        return ngettext(
            "Paused until %(date)s; %(num)d upcoming break cancelled for you.",
            "Paused until %(date)s; %(num)d upcoming breaks cancelled for you.",
            given_up,
            date=format_day(day, year=True),
        ), None
    return _("Paused until %(date)s.", date=format_day(day, year=True)), None


def _preferences(person: Person, data: dict[str, Any]) -> tuple[str | None, str | None]:
    """Meeting mode and group size, through the same write as the preferences page."""
    mode, size = data.get("mode"), data.get("group_size")
    if mode not in {m.value for m in Mode}:
        return None, _("Choose how you would like to meet.")
    if size not in {g.value for g in GroupSizePreference}:
        return None, _("Choose a group size.")
    pref = person.preference
    current = Preferences(
        timezone=person.timezone,
        work_start=person.work_start,
        work_end=person.work_end,
        mode=pref.mode,
        frequency=pref.frequency,
        group_size_pref=pref.group_size_pref,
        topics=list(pref.topics or []),
        share_topics=list(pref.share_topics or []),
        avoid=list(pref.avoid or []),
        reminders=pref.reminders,
        days=list(pref.days or []),
        weekday_sites=dict(pref.weekday_sites or {}),
    )
    save_preferences(person, replace(current, mode=mode, group_size_pref=size))
    return _("Preferences saved."), None


def _next_break_text(person: Person) -> str:
    upcoming = next_break_for(person, datetime.now(UTC))
    if upcoming is None:
        return _("No break is planned for you yet.")
    local = upcoming.start.astimezone(ZoneInfo(person.timezone))
    when = local.strftime("%Y-%m-%d %H:%M")
    if upcoming.planned and upcoming.others:
        names = ", ".join(p.name for p in upcoming.others)
        return _("Your next break: %(when)s with %(names)s.", when=when, names=names)
    return _("Your next break is expected on %(when)s.", when=when)


def _programmes() -> list[Programme]:
    query = select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
    return list(db.session.scalars(query))


def _team_id(activity: dict[str, Any]) -> str | None:
    team = _field(activity, "channelData", "team", "id")
    return _teams_id(team, "channelData.team.id") if team is not None else None


def _linked(activity: dict[str, Any]) -> Programme | None:
    team = _team_id(activity)
    if team is None:
        return None
    return db.session.scalar(select(Programme).where(Programme.teams_team_id == team))


def _link(activity: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A Fika admin links the chosen programme to this team and adds its members."""
    programmes = _programmes()
    team = _team_id(activity)
    if team is None:
        return link_card(programmes, error=_("Link a programme from a team, not from a chat."))
    sender = _identify(activity)
    if sender.problem:
        return link_card(programmes, error=sender.problem, linked=_linked(activity))
    if sender.email not in current_settings().admin_emails:
        return link_card(
            programmes,
            error=_("Only a Fika admin can link a programme to this team."),
            linked=_linked(activity),
        )
    chosen = data.get("programme")
    programme = next((p for p in programmes if str(p.id) == chosen), None)
    if programme is None:
        return link_card(programmes, error=_("Choose a programme."), linked=_linked(activity))
    store_link(current_settings(), programme, team)
    db.session.commit()
    service_url = _service_url(activity)
    kept = _per_app()
    worker = threading.Thread(
        target=_sync_team,
        args=(kept["app"], programme.id, team, service_url),
        name="teams-roster",
        daemon=True,
    )
    with kept["lock"]:  # the running syncs, so tests (and a shutdown) can wait for them
        kept["syncs"] = [t for t in kept.get("syncs", []) if t.is_alive()] + [worker]
    worker.start()
    notice = _(
        "%(programme)s is linked to this team. Fika is adding its members now and will say "
        "here when they are in.",
        programme=programme.name,
    )
    return link_card(programmes, linked=programme, notice=notice)


@bp.record
def _remember_app(state: BlueprintSetupState) -> None:
    """Each app keeps a handle on itself for the roster sync, which outlives the request."""
    state.app.extensions.setdefault(EXTENSION, {"lock": threading.Lock()})["app"] = state.app


def _sync_team(app, programme_id: int, team: str, service_url: str) -> None:
    """Add a linked team's roster to the programme (a big team takes longer than Teams waits
    for an invoke's answer), then say in the team how it went."""
    with app.app_context():
        try:
            programme = db.session.get(Programme, programme_id)
            if programme is None:
                return
            with using(programme.language):
                try:
                    result = sync_roster(
                        current_settings(),
                        programme,
                        _connector().paged_members(service_url, team),
                    )
                except DeliveryError as exc:
                    db.session.rollback()
                    log.warning("teams: roster of %s not read: %s", team, exc)
                    card = link_card(
                        _programmes(),
                        linked=programme,
                        error=_(
                            "Fika could not read this team's members from Teams. Link the "
                            "programme again to try once more."
                        ),
                    )
                else:
                    log.info(
                        "teams: team %s synced into programme %s: %s", team, programme_id, result
                    )
                    added = ngettext("%(num)d person added", "%(num)d people added", result.added)
                    already = ngettext(
                        "%(num)d already taking part", "%(num)d already taking part", result.already
                    )
                    notice = _(
                        "%(programme)s: %(added)s, %(already)s.",
                        programme=programme.name,
                        added=added,
                        already=already,
                    )
                    card = link_card(_programmes(), linked=programme, notice=notice)
            _connector().send(service_url, team, card_message(card))
        except DeliveryError as exc:
            log.warning("teams: could not tell team %s about its roster: %s", team, exc)
        except Exception:  # a thread of its own: nobody else would log it
            log.exception("teams: roster sync of team %s failed", team)
            db.session.rollback()
        finally:
            db.session.remove()
