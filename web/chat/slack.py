"""Slack's interactivity (``/slack/actions``) and slash command (``/slack/commands``) endpoints.

Every request is verified (v0 HMAC-SHA256 over ``v0:{timestamp}:{raw body}``, constant-time,
at most five minutes old) before any of it is read. The state change is a few milliseconds of
database work, done before answering; the reply to a button goes to Slack's ``response_url``
from a background thread, so Slack gets its 200 well within three seconds.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from flask import abort, jsonify, request
from sqlalchemy import select

from core.answers import AnswerError, apply_answer
from core.changes import join, leave, pause, rejoin, resume
from core.channels import RememberedIds
from core.db import db
from core.i18n import N_, format_day, format_when, ngettext, using
from core.i18n import gettext as _
from core.models import Group, Person
from core.next_break import next_break_for
from core.programmes import Applicant
from core.self_formed import DEFAULT_WEEKS, TeamStartError, start_team
from core.text import clean_text, is_plain_text
from integrations.slack_blocks import WELCOME_LEAVE, WELCOME_PAUSE
from integrations.slack_commands import CommandError, help_text, parse_command
from integrations.slack_verify import verify_slack_request
from web.chat import bp
from web.config import current_settings
from web.extensions import csrf

log = logging.getLogger("fika.slack")

ACTION_IDS = {"fika_in": "in", "fika_cant": "cant", "fika_pause_week": "pause_week"}
#: "pause" without a date: until the person resumes.
UNTIL_RESUMED = datetime(9999, 12, 31).date()
#: Slack's user ids are a few letters and digits (U024BE7LH, W012A3CDE). Anything else did not
#: come from Slack's servers, signature or not, and is not looked up: a NUL in it would make
#: PostgreSQL refuse the query.
SLACK_USER_ID = re.compile(r"[A-Za-z0-9]{1,64}")
#: Longest group UID (``fika_group.uid``); a button's value is one of them.
MAX_UID = 120


def verified_body() -> bytes:
    """The raw body, after checking Slack's signature; 401 (and nothing read) when it fails."""
    secret = current_settings().channel_settings.get("FIKA_SLACK_SIGNING_SECRET")
    if not secret:
        abort(404, "Slack is not configured.")
    body = request.get_data(cache=True)
    if not verify_slack_request(secret, dict(request.headers), body, time.time()):
        abort(401, "Slack signature check failed.")
    return body


def _check_user_id(slack_user: object) -> None:
    """400 unless ``slack_user`` looks like a Slack user id (see SLACK_USER_ID)."""
    if not isinstance(slack_user, str) or not SLACK_USER_ID.fullmatch(slack_user):
        abort(400, "Not a Slack user id.")


def identify_user(slack_user: str) -> tuple[str | None, dict]:
    """The email behind a Slack user id (remembered, or asked of Slack) and their profile."""
    email = RememberedIds("slack_user").key_for(slack_user)
    if email is not None:
        return email, {}
    profile = _slack_profile(slack_user)
    email = (profile.get("email") or "").strip().lower() or None
    if email:
        RememberedIds("slack_user")[email] = slack_user
        db.session.commit()
    return email, profile


def person_for(email: str | None) -> Person | None:
    return db.session.scalar(select(Person).where(Person.email == email)) if email else None


def _slack_profile(slack_user: str) -> dict:
    """Slack's profile of a user (users.info; needs the users:read.email scope), or {}."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    config = current_settings().channel_settings
    client = WebClient(
        token=config["FIKA_SLACK_BOT_TOKEN"],
        base_url=config.get("FIKA_SLACK_API_URL") or "https://slack.com/api/",
        timeout=2,
    )
    try:
        return dict(client.users_info(user=slack_user)["user"]["profile"])
    except (SlackApiError, KeyError, OSError) as exc:
        log.warning("slack: users.info for %s failed: %s", slack_user, exc)
        return {}


def reply_later(url: str, text: str) -> None:
    """Post an ephemeral reply to Slack's response_url without holding up our answer."""

    def post() -> None:
        try:
            requests.post(
                url,
                json={"response_type": "ephemeral", "replace_original": False, "text": text},
                timeout=5,
            )
        except requests.RequestException as exc:
            log.warning("slack: response_url post failed: %s", exc)

    threading.Thread(target=post, name="slack-reply", daemon=True).start()


#: Interactions answered by other modules (App Home and modals: ``web/chat/slack_home.py``),
#: by the payload's ``type`` (``view_submission``) or, for ``block_actions``, the action_id.
INTERACTIONS: dict[str, Callable[[dict], Any]] = {}


def _interaction_key(payload: object) -> str | None:
    """What :data:`INTERACTIONS` is keyed by for ``payload``, if it looks like one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return None
    if payload["type"] != "block_actions":
        return payload["type"]
    actions = payload.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    action_id = first.get("action_id") if isinstance(first, dict) else None
    return action_id if isinstance(action_id, str) else None


@bp.post("/slack/actions")
@csrf.exempt  # Slack's signature is the proof of origin
def slack_actions():
    """A button in a Fika message (or the App Home, or a modal) was used."""
    verified_body()
    try:
        payload = json.loads(request.form["payload"])
    except (KeyError, TypeError, ValueError):
        abort(400, "Not a Slack interaction payload.")
    handler = INTERACTIONS.get(_interaction_key(payload) or "")
    if handler is not None:
        return handler(payload)
    try:
        slack_user = payload["user"]["id"]
        action = payload["actions"][0]
        response_url = payload.get("response_url")
        uid = str(action.get("value"))
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        abort(400, "Not a Slack block_actions payload.")
    _check_user_id(slack_user)
    if action.get("action_id") in WELCOME_ACTIONS:
        text = _welcome_answer(person_for(identify_user(slack_user)[0]), action["action_id"])
        log.info("slack action=%s user=%s", action.get("action_id"), slack_user)
        if response_url:
            reply_later(response_url, text)
        return "", 200
    answer = ACTION_IDS.get(action.get("action_id"))
    person = person_for(identify_user(slack_user)[0])
    group = (
        db.session.scalar(select(Group).where(Group.uid == uid))
        if len(uid) <= MAX_UID and is_plain_text(uid)
        else None  # no group has such a UID: Fika makes them
    )
    if answer is None or group is None:
        with using(person.language if person else None):
            text = _("That button belongs to a coffee break Fika no longer knows; nothing changed.")
    elif person is None:
        with using(None):  # the organisation's language
            text = _("Fika does not know you yet: type `/fika join` to take part.")
    else:
        try:
            text = apply_answer(current_settings(), person, group, answer)
        except AnswerError as exc:
            text = str(exc)
    log.info(
        "slack action=%s user=%s group=%s",
        action.get("action_id"),
        slack_user,
        group.id if group else None,
    )
    if response_url:
        reply_later(response_url, text)
    return "", 200


#: The welcome DM's pause and leave buttons (``core.slack_sync.welcome_notice``).
WELCOME_ACTIONS = {WELCOME_PAUSE, WELCOME_LEAVE}
#: How long the welcome DM's pause lasts.
WELCOME_PAUSE_DAYS = 7


def _welcome_answer(person: Person | None, action_id: str) -> str:
    """Pause for a week or leave, as ``/fika pause``/``leave`` do; the reply in their language."""
    if person is None:
        with using(None):
            return _("Fika does not know you yet: type `/fika join` to take part.")
    settings = current_settings()
    with using(person.language):
        if action_id == WELCOME_LEAVE:
            touched = leave(settings, person)
            return ngettext(
                "You have left the coffee breaks; %(num)d upcoming break was cancelled for you. "
                "`/fika join` brings you back.",
                "You have left the coffee breaks; %(num)d upcoming breaks were cancelled for "
                "you. `/fika join` brings you back.",
                touched,
            )
        today = datetime.now(UTC).astimezone(ZoneInfo(person.timezone)).date()
        until = today + timedelta(days=WELCOME_PAUSE_DAYS)
        pause(settings, person, until)
        return _(
            "Paused until %(day)s. `/fika resume` to take part again sooner.",
            day=format_day(until, year=True),
        )


def _ephemeral(text: str):
    return jsonify({"response_type": "ephemeral", "text": text})


@bp.post("/slack/commands")
@csrf.exempt
def slack_commands():
    """``/fika join | pause [until YYYY-MM-DD | for N days] | resume | status | leave | help |
    team <topic>``."""
    verified_body()
    slack_user = request.form.get("user_id", "")
    if slack_user:
        _check_user_id(slack_user)
    email, profile = identify_user(slack_user) if slack_user else (None, {})
    person = person_for(email)
    today = (
        datetime.now(UTC)
        .astimezone(ZoneInfo(person.timezone if person else current_settings().timezone))
        .date()
    )
    # The answer is the person's alone: their language, else the organisation's.
    with using(person.language if person else None):
        return _command(person, email, profile, today)


def _command(person: Person | None, email: str | None, profile: dict, today):
    """Carry out one ``/fika`` command and say what happened."""
    try:
        command = parse_command(request.form.get("text", ""), today)
    except CommandError as exc:
        return _ephemeral(exc.message)
    if command.name == "help":
        return _ephemeral(help_text())
    if command.name == "join":
        return _ephemeral(join_from_slack(person, email, profile))
    if command.name == "team":
        return _ephemeral(_team(person, command.topic, today))
    if person is None:
        return _ephemeral(_("You are not taking part yet: type `/fika join` to start."))
    if command.name == "pause":
        until = command.until or UNTIL_RESUMED
        given_up = pause(current_settings(), person, until)
        if command.until is None:
            text = _("Paused until you type `/fika resume`.")
        else:
            text = _("Paused until %(day)s.", day=format_day(until, sentence=True, year=True))
        if given_up:
            text += " " + ngettext(
                "%(num)d upcoming break was cancelled for you.",
                "%(num)d upcoming breaks were cancelled for you.",
                given_up,
            )
        return _ephemeral(text)
    if command.name == "resume":
        resume(current_settings(), person)
        return _ephemeral(_("Welcome back: you will be matched from the next round."))
    if command.name == "leave":
        touched = leave(current_settings(), person)
        text = _("You have left the coffee breaks.")
        if touched:
            text += " " + ngettext(
                "%(num)d upcoming break was cancelled for you.",
                "%(num)d upcoming breaks were cancelled for you.",
                touched,
            )
        return _ephemeral(text + " " + _("`/fika join` brings you back."))
    return _ephemeral(_status(person, today))


def _team(person: Person | None, topic: str, today) -> str:
    """``/fika team <topic>``: start a self-formed team, open to others, as /me does."""
    if person is None:
        return _("Fika does not know you yet: type `/fika join` to take part.")
    settings = current_settings()
    try:
        programme, outcome = start_team(
            settings, person, topic, [], open_to_join=True, weeks=DEFAULT_WEEKS, today=today
        )
    except TeamStartError as error:
        db.session.rollback()
        return str(error)
    db.session.commit()
    text = (
        _("Your team on %(topic)s is started.", topic=programme.topic)
        if outcome.created
        else _(
            "Your team on %(topic)s is started: it meets once enough people are in.",
            topic=programme.topic,
        )
    )
    more = ngettext(
        "It is open: colleagues can choose it on their page, and it runs for %(num)d week.",
        "It is open: colleagues can choose it on their page, and it runs for %(num)d weeks.",
        DEFAULT_WEEKS,
    )
    link = _("See it on your page: %(url)s", url=settings.base_url + "/me#teams-heading")
    return f"{text} {more} {link}"


def join_from_slack(person: Person | None, email: str | None, profile: dict) -> str:
    """Take part again, or for the first time with what Slack's profile tells us."""
    settings = current_settings()
    if person is None:
        if email is None:
            return _("Fika could not read your email from Slack; please join on the web form.")
        # Profile text nobody can correct on a form: control characters become spaces.
        name = clean_text(str(profile.get("real_name") or ""))[:200]
        department = clean_text(str(profile.get("title") or ""))[:200]
        applicant = Applicant(
            email=email,
            name=name or email.split("@")[0],
            department=department or "Not set yet",
            home_office=None,
            timezone=settings.timezone,
        )
        person = join(settings, applicant, None)
    rejoin(person)
    home = settings.base_url + "/"
    return _(
        "You're in, %(name)s! Fika will match you from the next round. "
        "Set your department, office and hours at %(url)s",
        name=person.first_name(),
        url=home,
    )


#: How ``/fika status`` names a meeting mode (translated when shown).
MODES = {"in_person": N_("in person"), "virtual": N_("virtual"), "either": N_("either")}


def _status(person: Person, today) -> str:
    pref = person.preference
    if pref is None or not pref.active:
        return _("You are not taking part. `/fika join` to start again.")
    if pref.paused_until and pref.paused_until > today:
        if pref.paused_until == UNTIL_RESUMED:
            return _("You are paused until you resume. `/fika resume` to take part again now.")
        day = format_day(pref.paused_until, sentence=True, year=True)
        return _("You are paused until %(day)s. `/fika resume` to take part again now.", day=day)
    upcoming = next_break_for(person, datetime.now(UTC))  # what /me says too
    mode = MODES.get(pref.mode)
    text = _("You are taking part (%(mode)s).", mode=_(mode) if mode else pref.mode)
    if upcoming:
        when = format_when(upcoming.start, ZoneInfo(person.timezone), sentence=True)
        text += " " + _("Your next break is on %(when)s.", when=when)
    return text
