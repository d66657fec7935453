"""Fika in Slack's App Home, its modals, and "suggest another time" from a group message.

* ``app_home_opened`` (from ``/slack/events``): Fika publishes the person's Home tab
  (``views.publish``): their next break and who with, a pause-until date picker, how they meet
  (mode, group size, how often, hours) with a button that opens the preferences modal, their
  programmes and their past breaks with why they were matched. Someone Fika does not know gets a
  Home with a "Join" button (the same join as ``/fika join``).
* The preferences modal (``views.open`` with the click's ``trigger_id``): its submission is
  checked by the preferences page's own form and stored by the page's own write
  (``web.account.preferences``); a bad value answers ``response_action: errors`` on its block.
* The date picker pauses through the pause page's form and ``core.changes.pause``; a date that
  is not after today is shown as an error on the Home tab, and nothing changes.
* "Suggest another time" opens a modal with the slots that suit every member
  (``core.another_time.free_slots``); choosing one moves the break for all
  (``core.another_time.move_group``: same UID, SEQUENCE + 1, through the outbox), and the Slack
  channel edits the group message it posted (``chat.update``).

Slack wants an answer within three seconds: the state changes are a few milliseconds of
database work done before answering; publishing the Home tab (``views.publish``, which may
first need ``users.info``) runs after the answer, on a thread with this request's context.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, copy_current_request_context, jsonify
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from core import changes
from core.another_time import SlotError, free_slots, move_group
from core.db import db
from core.enums import GroupStatus
from core.i18n import gettext as _
from core.models import Group, GroupMember, Person
from core.next_break import next_break_for
from core.programmes import programmes_for
from core.text import is_plain_text
from integrations.reasons import translate_reason
from integrations.slack_blocks import clip, escape_mrkdwn
from web.account.forms import FREQUENCIES, GROUP_SIZES, MODE_CHOICES, PauseForm
from web.account.preferences import save_preferences_form, stored_preferences_form
from web.chat.slack import (
    INTERACTIONS,
    MAX_UID,
    SLACK_USER_ID,
    UNTIL_RESUMED,
    identify_user,
    join_from_slack,
    person_for,
    reply_later,
)
from web.config import current_settings

log = logging.getLogger("fika.slack")

#: Block Kit limits used here (https://docs.slack.dev/reference/block-kit).
MAX_SECTION = 3000
MAX_OPTION = 75
PAST_BREAKS = 5
#: The preferences the modal asks, by the preferences form's field names (also its block_ids).
MODAL_FIELDS = ("mode", "group_size_pref", "frequency", "work_start", "work_end")
PREFERENCES_CALLBACK = "fika_preferences"
ANOTHER_TIME_CALLBACK = "fika_another_time"


# --- Slack calls ------------------------------------------------------------------------------


def _client() -> WebClient:
    config = current_settings().channel_settings
    api_url = config.get("FIKA_SLACK_API_URL") or "https://slack.com/api/"
    return WebClient(
        token=config["FIKA_SLACK_BOT_TOKEN"],
        base_url=api_url if api_url.endswith("/") else api_url + "/",
        timeout=2,
    )


def _after_answer(work: Callable[[], None]) -> None:
    """Run ``work`` after Slack has its answer, on a thread with this request's context."""

    @copy_current_request_context
    def run() -> None:
        try:
            work()
        except Exception:  # a failed Home refresh must not go unnoticed, nor kill anything
            log.exception("slack: App Home work failed")

    threading.Thread(target=run, name="slack-home", daemon=True).start()


def publish_home(slack_user: str, problem: str | None = None) -> None:
    """Publish ``slack_user``'s Home tab (``views.publish``); ``problem`` shows by the picker."""
    email, _profile = identify_user(slack_user)
    person = person_for(email)
    view = home_view(person, datetime.now(UTC), problem) if person else stranger_view()
    try:
        _client().views_publish(user_id=slack_user, view=view)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("slack: views.publish for %s failed: %s", slack_user, exc)


def _open_modal(trigger_id: str, view: dict[str, Any]) -> None:
    try:
        _client().views_open(trigger_id=trigger_id, view=view)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("slack: views.open failed: %s", exc)


def handle_app_home_opened(event: dict[str, Any]) -> None:
    """``app_home_opened``: publish the Home tab for the person who opened it (after the ack).

    Opening the Messages tab sends the same event with ``tab: messages``; that needs nothing.
    """
    slack_user = event.get("user")
    if event.get("tab", "home") != "home":
        return
    if not isinstance(slack_user, str) or not SLACK_USER_ID.fullmatch(slack_user):
        abort(400, "Not a Slack user id.")
    _after_answer(lambda: publish_home(slack_user))


# --- views ------------------------------------------------------------------------------------


def _text(text: str, kind: str = "plain_text") -> dict[str, Any]:
    return {"type": kind, "text": text}


def _section(block_id: str, text: str, accessory: dict | None = None) -> dict[str, Any]:
    block = {
        "type": "section",
        "block_id": block_id,
        "text": _text(clip(text, MAX_SECTION), "mrkdwn"),
    }
    if accessory is not None:
        block["accessory"] = accessory
    return block


def _button(action_id: str, label: str, value: str = "", style: str | None = None) -> dict:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": _text(clip(label, MAX_OPTION)),
    }
    if value:
        button["value"] = value
    if style:
        button["style"] = style
    return button


def _label(choices, value: str | None) -> str:
    return next((str(label) for key, label in choices if key == value), value or "")


def _when(start: datetime, end: datetime, zone: str) -> str:
    local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    return f"{local_start:%A %-d %B, %H:%M}–{local_end:%H:%M}"


def _next_break_text(person: Person, now: datetime) -> str:
    pref = person.preference
    today = now.astimezone(ZoneInfo(person.timezone)).date()
    if pref is not None and pref.paused_until and pref.paused_until > today:
        if pref.paused_until == UNTIL_RESUMED:
            return _("*Your next break*\nYou are paused until you resume.")
        return _(
            "*Your next break*\nYou are paused until %(day)s.",
            day=f"{pref.paused_until:%A %-d %B %Y}",
        )
    upcoming = next_break_for(person, now)
    if upcoming is None:
        return _("*Your next break*\nNo break is planned for you yet.")
    when = _when(upcoming.start, upcoming.end, person.timezone)
    if not upcoming.planned:
        return _(
            "*Your next break*\n%(when)s, in %(programme)s. Your partners are chosen when "
            "the round is planned.",
            when=when,
            programme=escape_mrkdwn(upcoming.programme.name),
        )
    names = ", ".join(escape_mrkdwn(f"{p.name} ({p.department})") for p in upcoming.others)
    return _("*Your next break*\n%(when)s with %(names)s.", when=when, names=names)


def _past_breaks(person: Person, now: datetime) -> list[Group]:
    return list(
        db.session.scalars(
            select(Group)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(
                GroupMember.person_id == person.id,
                Group.status != GroupStatus.CANCELLED,
                Group.start_at <= now,
            )
            .order_by(Group.start_at.desc())
            .limit(PAST_BREAKS)
        )
    )


def home_view(person: Person, now: datetime, problem: str | None = None) -> dict[str, Any]:
    """The Home tab of someone Fika knows (see the module docstring for what it holds)."""
    pref = person.preference
    today = now.astimezone(ZoneInfo(person.timezone)).date()
    paused = pref is not None and pref.paused_until is not None and pref.paused_until > today
    picker: dict[str, Any] = {
        "type": "datepicker",
        "action_id": "fika_home_pause",
        "placeholder": _text(_("Pick a date")),
    }
    if paused and pref.paused_until != UNTIL_RESUMED:
        picker["initial_date"] = pref.paused_until.isoformat()
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": "fika_home_header", "text": _text(_("Your coffee breaks"))},
        _section("fika_home_next", _next_break_text(person, now)),
        _section(
            "fika_home_pause",
            _("*Pause*\nPick the day you want to take part again; breaks before it are given up."),
            picker,
        ),
    ]
    if problem:
        blocks.append(
            {
                "type": "context",
                "block_id": "fika_home_problem",
                "elements": [
                    _text(clip(":warning: " + escape_mrkdwn(problem), MAX_SECTION), "mrkdwn")
                ],
            }
        )
    if paused or (pref is not None and not pref.active):
        label = _("Resume now") if paused else _("Take part again")
        blocks.append(
            {
                "type": "actions",
                "block_id": "fika_home_resume",
                "elements": [_button("fika_home_resume", label, style="primary")],
            }
        )
    if pref is not None:
        how = _(
            "*How you meet*\n%(mode)s · %(size)s · %(often)s\nWorking hours %(start)s–%(end)s "
            "(%(zone)s)",
            mode=_label(MODE_CHOICES, pref.mode),
            size=_label(GROUP_SIZES, pref.group_size_pref),
            often=_label(FREQUENCIES, pref.frequency),
            start=f"{person.work_start:%H:%M}",
            end=f"{person.work_end:%H:%M}",
            zone=person.timezone,
        )
        blocks.append(
            _section(
                "fika_home_preferences",
                how,
                _button("fika_home_preferences", _("Change preferences")),
            )
        )
    programmes = programmes_for(person)
    if programmes:
        names = "\n".join(f"• {escape_mrkdwn(p.name)}" for p in programmes)
        blocks.append(
            _section("fika_home_programmes", _("*Your programmes*\n%(names)s", names=names))
        )
    past = _past_breaks(person, now)
    blocks.append({"type": "divider", "block_id": "fika_home_divider"})
    blocks.append({"type": "header", "block_id": "fika_home_past", "text": _text(_("Past breaks"))})
    if not past:
        blocks.append(_section("fika_home_past_none", _("No breaks yet.")))
    for group in past:
        others = ", ".join(
            sorted(escape_mrkdwn(m.person.name) for m in group.members if m.person_id != person.id)
        )
        text = _(
            "*%(when)s* with %(names)s",
            when=_when(group.start_at, group.end_at, person.timezone),
            names=others or _("nobody else"),
        )
        if group.reasons:
            reasons = "\n".join(f"• {escape_mrkdwn(translate_reason(r))}" for r in group.reasons)
            text += "\n" + _("_Why you were matched_\n%(reasons)s", reasons=reasons)
        blocks.append(_section(f"fika_home_past_{group.id}", text))
    return {"type": "home", "callback_id": "fika_home", "blocks": blocks}


def stranger_view() -> dict[str, Any]:
    """The Home tab of someone Fika does not know yet: what it is, and a Join button."""
    org = current_settings().org_name
    return {
        "type": "home",
        "callback_id": "fika_home",
        "blocks": [
            {
                "type": "header",
                "block_id": "fika_home_header",
                "text": _text(_("Coffee breaks with Fika")),
            },
            _section(
                "fika_home_about",
                _(
                    "Fika pairs colleagues at %(org)s for short coffee breaks across teams, "
                    "from the office and from home. You are not taking part yet.",
                    org=escape_mrkdwn(org),
                ),
            ),
            {
                "type": "actions",
                "block_id": "fika_home_join",
                "elements": [_button("fika_home_join", _("Join"), style="primary")],
            },
        ],
    }


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _text(clip(label, MAX_OPTION)), "value": value}


def _select(name: str, label: str, choices, current: str | None) -> dict[str, Any]:
    options = [_option(key, str(text)) for key, text in choices]
    element: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": options}
    chosen = next((o for o in options if o["value"] == current), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return {"type": "input", "block_id": name, "label": _text(label), "element": element}


def _timepicker(name: str, label: str, current: time | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "timepicker", "action_id": "value"}
    if current is not None:
        element["initial_time"] = f"{current:%H:%M}"
    return {"type": "input", "block_id": name, "label": _text(label), "element": element}


def preferences_modal(person: Person) -> dict[str, Any]:
    """The preferences modal, filled with what is stored; block_ids are the form's fields."""
    pref = person.preference
    return {
        "type": "modal",
        "callback_id": PREFERENCES_CALLBACK,
        "title": _text(clip(_("Your preferences"), 24)),
        "submit": _text(clip(_("Save"), 24)),
        "close": _text(clip(_("Cancel"), 24)),
        "blocks": [
            _select("mode", _("How would you like to meet?"), MODE_CHOICES, pref.mode),
            _select("group_size_pref", _("Group size"), GROUP_SIZES, pref.group_size_pref),
            _select("frequency", _("How often?"), FREQUENCIES, pref.frequency),
            _timepicker("work_start", _("Working hours start"), person.work_start),
            _timepicker("work_end", _("Working hours end"), person.work_end),
        ],
    }


def another_time_modal(group: Group, person: Person, slots: list[datetime]) -> dict[str, Any]:
    """The slots that suit everyone, in the clicker's own time; the group's UID rides along."""
    length = group.end_at - group.start_at
    options = [
        _option(start.astimezone(UTC).isoformat(), _when(start, start + length, person.timezone))
        for start in slots
    ]
    return {
        "type": "modal",
        "callback_id": ANOTHER_TIME_CALLBACK,
        "private_metadata": group.uid,
        "title": _text(clip(_("Another time"), 24)),
        "submit": _text(clip(_("Move the break"), 24)),
        "close": _text(clip(_("Cancel"), 24)),
        "blocks": [
            _section(
                "fika_another_time_about",
                _(
                    "These times suit everyone in the break: inside their working hours and "
                    "free in their calendars. The one you choose moves it for all."
                ),
            ),
            {
                "type": "input",
                "block_id": "slot",
                "label": _text(_("New time")),
                "element": {"type": "radio_buttons", "action_id": "value", "options": options},
            },
        ],
    }


# --- interactions -----------------------------------------------------------------------------


def _who(payload: dict[str, Any]) -> tuple[str, Person | None]:
    """The clicking Slack user (checked) and the Person behind them, if any."""
    try:
        slack_user = payload["user"]["id"]
    except (KeyError, TypeError):
        abort(400, "Not a Slack interaction payload.")
    if not isinstance(slack_user, str) or not SLACK_USER_ID.fullmatch(slack_user):
        abort(400, "Not a Slack user id.")
    return slack_user, person_for(identify_user(slack_user)[0])


def _first_action(payload: dict[str, Any]) -> dict[str, Any]:
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        abort(400, "Not a Slack block_actions payload.")
    return actions[0]


def _group_by_uid(uid: object) -> Group | None:
    if not isinstance(uid, str) or not 0 < len(uid) <= MAX_UID or not is_plain_text(uid):
        return None  # no group has such a UID: Fika makes them
    return db.session.scalar(select(Group).where(Group.uid == uid))


def _is_member(group: Group, person: Person) -> bool:
    return any(m.person_id == person.id for m in group.members)


def on_join(payload: dict[str, Any]):
    """The stranger's Join button: the same join as ``/fika join``; then a fresh Home."""
    slack_user, person = _who(payload)
    email, profile = identify_user(slack_user)
    join_from_slack(person, email, profile)
    _after_answer(lambda: publish_home(slack_user))
    return "", 200


def pause_problem(person: Person, chosen: object, today: date) -> tuple[date | None, str | None]:
    """The pause page's own form judges the picked date: (resume day, None) or (None, why)."""
    form = PauseForm(
        formdata=MultiDict({"length": "until", "until": str(chosen or "")}),
        meta={"csrf": False},
        today=today,
    )
    if form.validate():
        return form.resume_on(), None
    messages = [m for errors in form.errors.values() for m in errors]
    return None, str(messages[0]) if messages else _("Pick a valid date.")


def on_pause(payload: dict[str, Any]):
    """The Home tab's date picker: pause until the chosen day, as /me pause does."""
    slack_user, person = _who(payload)
    if person is None:
        _after_answer(lambda: publish_home(slack_user))
        return "", 200
    today = datetime.now(UTC).astimezone(ZoneInfo(person.timezone)).date()
    until, problem = pause_problem(person, _first_action(payload).get("selected_date"), today)
    if until is not None:
        changes.pause(current_settings(), person, until)
    _after_answer(lambda: publish_home(slack_user, problem))
    return "", 200


def on_resume(payload: dict[str, Any]):
    """End a pause (or take part again after leaving) from the Home tab."""
    slack_user, person = _who(payload)
    if person is not None and person.preference is not None and not person.preference.active:
        changes.rejoin(person)
    elif person is not None and person.preference is not None:
        changes.resume(current_settings(), person)
    _after_answer(lambda: publish_home(slack_user))
    return "", 200


def on_preferences(payload: dict[str, Any]):
    """ "Change preferences": open the modal with the click's trigger_id (it expires in 3 s)."""
    slack_user, person = _who(payload)
    trigger_id = payload.get("trigger_id")
    if person is None or person.preference is None or not isinstance(trigger_id, str):
        _after_answer(lambda: publish_home(slack_user))
        return "", 200
    _open_modal(trigger_id, preferences_modal(person))
    return "", 200


def on_another_time(payload: dict[str, Any]):
    """ "Suggest another time" in a group message: a modal with the slots that suit everyone."""
    slack_user, person = _who(payload)
    group = _group_by_uid(_first_action(payload).get("value"))
    trigger_id = payload.get("trigger_id")
    response_url = payload.get("response_url")
    if person is None or group is None or not _is_member(group, person):
        text = _("That button belongs to a coffee break you are not in; nothing changed.")
    elif not isinstance(trigger_id, str):
        abort(400, "A block_actions payload without a trigger_id.")
    else:
        slots = free_slots(current_settings(), group, datetime.now(UTC))
        if slots:
            _open_modal(trigger_id, another_time_modal(group, person, slots))
            return "", 200
        text = _("No other time in the next few days suits everyone; the break stays as it is.")
    if isinstance(response_url, str) and response_url:
        reply_later(response_url, text)
    return "", 200


def _values(payload: dict[str, Any]) -> dict[str, Any]:
    """The submitted state, block_id -> the value of its one element (or None)."""
    try:
        state = payload["view"]["state"]["values"]
    except (KeyError, TypeError):
        abort(400, "A view_submission without its state.")
    values: dict[str, Any] = {}
    for block_id, element in (state or {}).items():
        field = (element or {}).get("value") if isinstance(element, dict) else None
        if not isinstance(field, dict):
            continue
        if "selected_option" in field:
            option = field["selected_option"]
            values[block_id] = option.get("value") if isinstance(option, dict) else None
        else:
            values[block_id] = field.get("selected_time") or field.get("value")
    return values


def _errors(errors: dict[str, str]):
    """Slack's answer that keeps the modal open with a message under each named block."""
    return jsonify({"response_action": "errors", "errors": errors})


def _time(value: object) -> time | None:
    try:
        return time.fromisoformat(value) if isinstance(value, str) and len(value) == 5 else None
    except ValueError:
        return None


def on_submit_preferences(slack_user: str, person: Person, payload: dict[str, Any]):
    """The preferences modal: the page's form checks it, the page's write stores it."""
    values = _values(payload)
    form = stored_preferences_form(person)
    for name in ("mode", "group_size_pref", "frequency"):
        form[name].data = values.get(name)
    form.work_start.data = _time(values.get("work_start"))
    form.work_end.data = _time(values.get("work_end"))
    if not form.validate():
        asked = {n: str(m[0]) for n, m in form.errors.items() if n in MODAL_FIELDS and m}
        if not asked:  # something stored is no longer valid: say so, on the first block
            asked = {"mode": _("Please review your preferences on the web page.")}
        db.session.rollback()
        return _errors(asked)
    save_preferences_form(person, form)
    _after_answer(lambda: publish_home(slack_user))
    return "", 200


def on_submit_another_time(person: Person, payload: dict[str, Any]):
    """Move the break to the chosen slot for everyone, if it still suits them all."""
    group = _group_by_uid(payload["view"].get("private_metadata"))
    if group is None or not _is_member(group, person):
        return _errors({"slot": _("This coffee break no longer exists.")})
    chosen = _values(payload).get("slot")
    try:
        start = datetime.fromisoformat(chosen) if isinstance(chosen, str) else None
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        return _errors({"slot": _("Choose one of the times.")})
    try:
        move_group(current_settings(), group, start, datetime.now(UTC))
    except SlotError:
        db.session.rollback()
        return _errors({"slot": _("That time is no longer free for everyone. Pick another one.")})
    return "", 200


def on_view_submission(payload: dict[str, Any]):
    """A Fika modal was submitted: answered within Slack's three seconds, errors by block."""
    slack_user, person = _who(payload)
    view = payload.get("view")
    callback = view.get("callback_id") if isinstance(view, dict) else None
    if person is None:
        return _errors(
            {
                "mode" if callback == PREFERENCES_CALLBACK else "slot": _(
                    "Fika does not know you yet: join from the Fika app's Home tab first."
                )
            }
        )
    if callback == PREFERENCES_CALLBACK:
        return on_submit_preferences(slack_user, person, payload)
    if callback == ANOTHER_TIME_CALLBACK:
        return on_submit_another_time(person, payload)
    abort(400, "Not a Fika modal.")


INTERACTIONS.update(
    {
        "fika_home_join": on_join,
        "fika_home_pause": on_pause,
        "fika_home_resume": on_resume,
        "fika_home_preferences": on_preferences,
        "fika_another_time": on_another_time,
        "view_submission": on_view_submission,
    }
)
