"""A learning team's check-ins and its "what we learned" digest, queued by the clock once.

Midway between ``starts_on`` and ``ends_on`` and again on ``ends_on`` (after the team's meeting
time that day), every member gets a check-in through the outbox on the per-person channels
(email, the outbox folder; as the break check-ins do): a link to a page with its short
questions (``web.teams``). The digest follows the final check-in once every member answered,
or :data:`DIGEST_WAIT` after it: the "what we learned" answers whose authors agreed to publish,
posted to the programme's chat channel and emailed to the programme's participants, except those
with ``digest_opt_out``; each email carries a link that sets it. A programme linked to a Slack
channel (``slack_channel_id``) gets it there from the bot (``chat.postMessage``, Block Kit, the
programme's language) when the bot token is set, instead of the deployment-wide webhooks; any other
programme (a Teams-linked one too) gets it on the webhooks
(``FIKA_SLACK_WEBHOOK_URL``/``FIKA_TEAMS_WEBHOOK_URL``).

Exactly once, even with two clocks: each step is claimed by a conditional UPDATE of the team's
``TeamProgress`` row (``... SET final_queued_at = now WHERE final_queued_at IS NULL``): only the
clock whose UPDATE changed the row queues, in the same transaction; the outbox keys
(``team_checkin-<uid>-<stage>-<person>``, ``digest-<uid>-<person>``) would fold a second
writer's rows into the first anyway.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from core.db import db
from core.enums import GroupStatus, ProgrammeKind
from core.events import log_event
from core.i18n import gettext as _
from core.i18n import using
from core.invites import build_invite
from core.learning_teams import TEAM_UID_PREFIX, active_candidates, team_members
from core.models import Group, Person, Preference, Programme, Round, TeamCheckin, TeamProgress
from core.outbox import Outbox
from core.participants import programme_members
from core.settings import Settings
from core.slack_sync import slack_configured
from core.team_goals import goal_of, goal_url, progress_of
from integrations.base import MessageKind, Notice
from integrations.catalogue import TEAMS_BOT_REQUIRED
from integrations.slack_blocks import clip, escape_mrkdwn
from integrations.teams_cards import adaptive_card, text_block

log = logging.getLogger("fika.team_checkins")

#: A check-in found more than this late (the clock was off) is marked, not sent.
CHECKIN_WITHIN = timedelta(days=7)
#: How long the digest waits for final answers when not every member has answered.
DIGEST_WAIT = timedelta(days=3)


def _due(programme: Programme, group: Group, day) -> datetime:
    """The instant on local ``day`` when the team's meeting of that day would be over."""
    zone = ZoneInfo(programme.timezone)
    end = group.end_at.astimezone(zone)
    return datetime.combine(day, end.time(), tzinfo=zone)


def midway_day(programme: Programme):
    """The day halfway through the programme's frame."""
    return programme.starts_on + timedelta(days=(programme.ends_on - programme.starts_on).days // 2)


def _teams() -> list[tuple[Group, Programme]]:
    return list(
        db.session.execute(
            select(Group, Programme)
            .join(Round, Round.id == Group.round_id)
            .join(Programme, Programme.id == Round.programme_id)
            .outerjoin(TeamProgress, TeamProgress.group_id == Group.id)
            .where(
                TeamProgress.digest_queued_at.is_(None),  # a team's last step: done with it
                Programme.kind == ProgrammeKind.LEARNING_TEAM,
                Programme.starts_on.is_not(None),
                Programme.ends_on.is_not(None),
                Group.status == GroupStatus.SCHEDULED,
                Group.uid.startswith(TEAM_UID_PREFIX),
            )
            .order_by(Group.id)
        )
    )


def _claim(group: Group, column: str, now: datetime) -> bool:
    """Set ``column`` of the team's progress row if still unset; whether this call did."""
    progress_of(group)
    result = db.session.execute(
        update(TeamProgress)
        .where(TeamProgress.group_id == group.id, getattr(TeamProgress, column).is_(None))
        .values({column: now})
    )
    return result.rowcount == 1


def queue_team_checkins(settings: Settings, now: datetime) -> int:
    """Queue the midway and final check-ins that are due, and the digests; returns new rows."""
    queued = 0
    for group, programme in _teams():
        final_at = _due(programme, group, programme.ends_on)
        midway_at = _due(programme, group, midway_day(programme))
        progress = db.session.get(TeamProgress, group.id)
        for stage, due, column in (
            ("midway", midway_at, "midway_queued_at"),
            ("final", final_at, "final_queued_at"),
        ):
            if now < due or (progress is not None and getattr(progress, column) is not None):
                continue
            if stage == "midway" and now >= final_at:
                late = True  # the frame is over: only the final check-in still makes sense
            else:
                late = now - due > CHECKIN_WITHIN
            try:
                if not _claim(group, column, now):
                    db.session.rollback()
                    continue
                new = 0 if late else _queue_checkin(settings, programme, group, stage, now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            log_event(log, "team_checkins.queued", group=group.id, stage=stage, new=new)
            queued += new
        queued += _maybe_digest(settings, programme, group, now)
    return queued


def _queue_checkin(
    settings: Settings, programme: Programme, group: Group, stage: str, now: datetime
) -> int:
    outbox = Outbox(settings)
    members = team_members(group)
    invite = build_invite(settings, group, members, "REQUEST", programme.name, now)
    goal = goal_of(group)
    rows = []
    for person in members:
        url = outbox.links.team_checkin(group.id, person.id, stage)
        with using(person.language):
            notice = _checkin_notice(programme, person, stage, goal, url, goal_url(settings, group))
        key = f"team_checkin-{group.uid}-{stage}-{person.id}"
        rows += outbox.text_rows(
            MessageKind.TEAM_CHECKIN, key, person, notice, invite, now, group=group
        )
    return outbox.write(rows)


def _checkin_notice(
    programme: Programme, person: Person, stage: str, goal: str, url: str, page: str
) -> Notice:
    hello = _("Hi %(name)s,", name=person.first_name()) if person.first_name() else _("Hi,")
    if stage == "midway":
        subject = _("How is your learning team going? %(topic)s", topic=programme.topic)
        ask = [_("your learning team on %(topic)s is halfway there.", topic=programme.topic)]
        ask.append(_("How is it going? Tell us in a sentence or two:"))
    else:
        subject = _("Did your learning team reach its goal? %(topic)s", topic=programme.topic)
        ask = [
            _("your learning team on %(topic)s has reached its deadline.", topic=programme.topic)
        ]
        ask.append(
            _(
                "Did you reach the goal? What did you learn? "
                "And may we publish what you learned in the team's digest?"
            )
        )
    lines = [hello, "", *ask, f"  {url}", ""]
    if goal:
        lines += [_("Your team's goal: %(goal)s", goal=goal), ""]
    lines += [_("Your team's page: %(url)s", url=page), "", f"-- {programme.name}"]
    return Notice(text="\n".join(lines) + "\n", card={}, subject=subject)


def _maybe_digest(settings: Settings, programme: Programme, group: Group, now: datetime) -> int:
    progress = db.session.get(TeamProgress, group.id)
    if progress is None or progress.final_queued_at is None or progress.digest_queued_at:
        return 0
    members = team_members(group)
    answered = db.session.scalar(
        select(func.count())
        .select_from(TeamCheckin)
        .where(TeamCheckin.group_id == group.id, TeamCheckin.stage == "final")
    )
    if answered < len(members) and now < progress.final_queued_at + DIGEST_WAIT:
        return 0
    try:
        if not _claim(group, "digest_queued_at", now):
            db.session.rollback()
            return 0
        new = _queue_digest(settings, programme, group, members, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log_event(log, "team_digest.queued", group=group.id, new=new)
    return new


def published(group: Group) -> list[tuple[Person, str]]:
    """The team's "what we learned" answers whose authors agreed to publish them."""
    return list(
        db.session.execute(
            select(Person, TeamCheckin.learned)
            .join(TeamCheckin, TeamCheckin.person_id == Person.id)
            .where(
                TeamCheckin.group_id == group.id,
                TeamCheckin.stage == "final",
                TeamCheckin.publish.is_(True),
                TeamCheckin.learned != "",
            )
            .order_by(TeamCheckin.answered_at, TeamCheckin.id)
        )
    )


def _digest_text(programme: Programme, group: Group, answers, opt_out: str | None) -> str:
    lines = [
        _("What a learning team learned about %(topic)s", topic=programme.topic),
        "",
    ]
    goal = goal_of(group)
    if goal:
        lines += [_("Their goal: %(goal)s", goal=goal), ""]
    lines += [f"- {person.name}: {learned}" for person, learned in answers]
    if opt_out:
        lines += ["", _("No more of these digests: %(url)s", url=opt_out)]
    lines += ["", f"-- {programme.name}"]
    return "\n".join(lines) + "\n"


def digest_blocks(programme: Programme, group: Group, answers) -> list[dict]:
    """The digest as Block Kit for the programme's Slack channel, in the current language:
    a header, the goal, one section per published answer (at most 45), the programme."""
    header = _("What a learning team learned about %(topic)s", topic=programme.topic)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(header, 150)}}
    ]
    goal = goal_of(group)
    if goal:
        blocks.append(_section("goal", _("Their goal: %(goal)s", goal=escape_mrkdwn(goal))))
    for n, (person, learned) in enumerate(answers[:45]):
        line = f"*{escape_mrkdwn(person.name)}*: {escape_mrkdwn(learned)}"
        blocks.append(_section(f"learned-{n}", line))
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": clip(escape_mrkdwn(programme.name), 3000)}],
        }
    )
    return blocks


def _section(block_id: str, text: str) -> dict:
    return {
        "type": "section",
        "block_id": block_id,
        "text": {"type": "mrkdwn", "text": clip(text, 3000)},
    }


def teams_bot_configured(settings: Settings) -> bool:
    """Whether the Teams *bot* is set up (every setting it needs), not only a Workflows webhook:
    only the bot can post into a linked team's channel."""
    return all(settings.channel_settings.get(name) for name in TEAMS_BOT_REQUIRED)


def _queue_digest(
    settings: Settings, programme: Programme, group: Group, members: list[Person], now: datetime
) -> int:
    answers = published(group)
    if not answers:
        return 0  # nothing anyone agreed to share: no digest
    outbox = Outbox(settings)
    with using(programme.language):
        text = _digest_text(programme, group, answers, None)
        card = adaptive_card([text_block(line) for line in text.splitlines() if line], text)
        subject = _("What we learned: %(topic)s", topic=programme.topic)
        rows = []
        if programme.slack_channel_id and slack_configured(settings):
            notice = Notice(
                text=text,
                card={"blocks": digest_blocks(programme, group, answers)},
                subject=subject,
                chat_channel=programme.slack_channel_id,
            )
            rows = outbox.channel_post_rows(
                MessageKind.DIGEST,
                f"digest-{group.uid}",
                notice,
                now,
                language=programme.language,
                group=group,
            )
        if not rows and programme.teams_team_id and teams_bot_configured(settings):
            # The team's General channel: its conversation id is the team's id.
            rows = outbox.channel_post_rows(
                MessageKind.DIGEST,
                f"digest-{group.uid}",
                Notice(text=text, card=card, subject=subject, chat_channel=programme.teams_team_id),
                now,
                language=programme.language,
                group=group,
                channel="teams",
            )
    if not rows:  # not linked to a chat (or no bot): the deployment-wide webhooks, as before
        rows = outbox.notice_rows(
            MessageKind.DIGEST,
            f"digest-{group.uid}",
            Notice(text=text, card=card, subject=subject),
            now,
        )
    opted_out = set(
        db.session.scalars(select(Preference.person_id).where(Preference.digest_opt_out.is_(True)))
    )
    reached = [
        p.id for p in programme_members(programme, active_candidates()) if p.id not in opted_out
    ]
    people = db.session.scalars(select(Person).where(Person.id.in_(reached)).order_by(Person.id))
    invite = build_invite(settings, group, members, "REQUEST", programme.name, now)
    for person in people:
        with using(person.language):
            text = _digest_text(programme, group, answers, outbox.links.digest_opt_out(person.id))
            subject = _("What we learned: %(topic)s", topic=programme.topic)
        rows += outbox.text_rows(
            MessageKind.DIGEST,
            f"digest-{group.uid}-{person.id}",
            person,
            Notice(text=text, card={}, subject=subject),
            invite,
            now,
            group=group,
        )
    return outbox.write(rows)
