"""Rounds in the admin: preview the next one, run it now, past rounds, deliveries, dead letters.

Preview and run go through ``core.rounds`` (imported inside the views: ``web`` never imports
``jobs`` at module level), so "run now" takes the same exactly-once path as the clock: a round
that already ran for that programme and date is not run again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from core import audit, dispatch
from core.db import db
from core.enums import DeliveryStatus, GroupStatus
from core.i18n import gettext as _
from core.i18n import ngettext
from core.models import Delivery, Group, GroupMember, Programme, Round
from core.programmes import next_slot
from web.admin import bp
from web.admin.access import actor_name
from web.admin.forms import ActionForm
from web.config import current_settings
from web.input_rules import id_arg
from web.redirects import safe_next

DELIVERY_STATUSES = tuple(DeliveryStatus)


def _programme(programme_id: int | None) -> Programme:
    """The programme asked for, or the first one; 404 when there is no such programme."""
    programme = (
        db.session.get(Programme, programme_id)
        if programme_id is not None
        else db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
    )
    if programme is None:
        abort(404, _("No such programme."))
    return programme


def _day(programme: Programme, value: str | None) -> date:
    """The date asked for, or the programme's next break, or today in its zone."""
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            abort(400, _("%(value)s is not a date (YYYY-MM-DD).", value=repr(value)))
    now = datetime.now(UTC)
    upcoming = next_slot(programme, now)  # holidays and days off skipped, as the clock does
    zone = ZoneInfo(programme.timezone)
    return upcoming.day if upcoming else now.astimezone(zone).date()


@bp.get("/rounds")
def rounds():
    """Programmes with a preview link, and the past rounds (newest first)."""
    programmes = db.session.scalars(select(Programme).order_by(Programme.id)).all()
    chosen = id_arg("programme")
    query = select(Round).where(Round.is_round())
    query = query.order_by(Round.date.desc(), Round.id.desc()).limit(100)
    if chosen is not None:
        query = query.where(Round.programme_id == chosen)
    past = db.session.scalars(query.options(selectinload(Round.groups))).all()
    return render_template(
        "admin/rounds.html",
        programmes=programmes,
        past=past,
        chosen=chosen,
        next_dates={p.id: _day(p, None) for p in programmes},
    )


@bp.get("/rounds/preview")
def preview():
    """What the round would be, without saving: groups, reasons, who is unmatched and why."""
    from core.rounds import existing_round, preview_round
    from pairing import RequestError

    programme = _programme(id_arg("programme"))
    day = _day(programme, request.args.get("date"))
    if programme.is_drop_in:
        abort(
            400,
            _(
                "%(name)s is a drop-in room: nobody is matched, there is no round.",
                name=programme.name,
            ),
        )
    if programme.is_learning_team:
        from core.learning_teams import preview_message

        abort(400, preview_message(programme))
    try:
        outcome = preview_round(current_settings(), programme, day)
    except RequestError as exc:
        abort(400, _("This round cannot be planned: %(reason)s", reason=exc))
    db.session.rollback()  # a preview never leaves anything behind
    return render_template(
        "admin/preview.html",
        programme=programme,
        day=day,
        outcome=outcome,
        existing=existing_round(programme, day),
        form=ActionForm(),
        zone=ZoneInfo(programme.timezone),
    )


@bp.post("/rounds/run")
def run_now():
    """Run the round now through the exactly-once path; a second click changes nothing."""
    from core.rounds import existing_round, run_round

    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, _("The form expired; please go back and try again."))
    programme = _programme(id_arg("programme", form=True))
    day = _day(programme, request.form.get("date"))
    outcome = run_round(current_settings(), programme, day)
    audit.record(
        actor_name(),
        "round.run",
        programme_id=programme.id,
        date=day.isoformat(),
        created=outcome.created,
        message=outcome.message,
    )
    db.session.commit()
    flash(outcome.message)
    existing = existing_round(programme, day)
    if existing is None:
        return redirect(url_for("admin.rounds"))
    return redirect(url_for("admin.round_detail", round_id=existing.id))


def break_state(group: Group, now: datetime) -> tuple[str, str]:
    """(CSS class, words) for where a break stands: called off, ahead, happening now or over."""
    if group.status == GroupStatus.CANCELLED:
        return "cancelled", _("called off")
    if group.end_at <= now:
        return "over", _("over")
    if group.start_at <= now:
        return "now", _("happening now")
    return "ahead", _("ahead")


def _deliveries(rnd: Round) -> list[Delivery]:
    group_ids = select(Group.id).where(Group.round_id == rnd.id)
    return list(
        db.session.scalars(
            select(Delivery)
            .where(or_(Delivery.round_id == rnd.id, Delivery.group_id.in_(group_ids)))
            .order_by(Delivery.id)
        )
    )


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id: int):
    """A past round: its groups and members, and every delivery with its status."""
    rnd = db.session.get(
        Round,
        round_id,
        options=[
            selectinload(Round.groups).selectinload(Group.members).selectinload(GroupMember.person)
        ],
    )
    if rnd is None:
        abort(404, _("No such round."))
    deliveries = _deliveries(rnd)
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    for row in deliveries:
        counts[row.status] = counts.get(row.status, 0) + 1
    now = datetime.now(UTC)
    return render_template(
        "admin/round.html",
        rnd=rnd,
        over=sum(1 for g in rnd.groups if break_state(g, now)[0] == "over"),
        break_state=lambda g: break_state(g, now),
        deliveries=deliveries,
        counts=counts,
        form=ActionForm(),
        zone=ZoneInfo(rnd.programme.timezone),
    )


@bp.get("/deliveries/dead")
def dead_letters():
    """Messages Fika gave up on, with the reason, and a button to send each again."""
    rows = db.session.scalars(
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.DEAD)
        .order_by(Delivery.id.desc())
        .limit(200)
    ).all()
    total = db.session.scalar(
        select(func.count(Delivery.id)).where(Delivery.status == DeliveryStatus.DEAD)
    )
    settings = current_settings()
    waiting = [
        (channel, count, dispatch.reroute_targets(settings, channel))
        for channel, count in sorted(dispatch.stranded(settings).items())
    ]
    return render_template(
        "admin/dead.html", rows=rows, total=total, form=ActionForm(), stranded=waiting
    )


@bp.post("/deliveries/stranded/<channel>")
def stranded(channel: str):
    """Send the messages waiting for a channel that is not configured through another one
    (``target``), or discard them (``target`` "discard"); audited."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, _("The form expired; please go back and try again."))
    settings = current_settings()
    target = request.form.get("target", "")
    try:
        if target == "discard":
            count = dispatch.discard(settings, channel)
            message = ngettext(
                "%(num)d message waiting for %(channel)s was discarded.",
                "%(num)d messages waiting for %(channel)s were discarded.",
                count,
                channel=channel,
            )
        else:
            count = dispatch.reroute(settings, channel, target)
            message = ngettext(
                "%(num)d message waiting for %(channel)s goes out through %(target)s now.",
                "%(num)d messages waiting for %(channel)s go out through %(target)s now.",
                count,
                channel=channel,
                target=target,
            )
    except ValueError as error:
        flash(_("Nothing changed: %(reason)s.", reason=error))
        return redirect(url_for("admin.dead_letters")), 303
    audit.record(actor_name(), "delivery.stranded", channel=channel, target=target, count=count)
    db.session.commit()
    flash(message)
    return redirect(url_for("admin.dead_letters")), 303


@bp.post("/deliveries/<int:delivery_id>/resend")
def resend(delivery_id: int):
    """Queue a dead delivery again now, with fresh attempts (same key: no duplicate)."""
    from core.dispatch import resend as queue_again

    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, _("The form expired; please go back and try again."))
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        abort(404, _("No such delivery."))
    if row.status != DeliveryStatus.DEAD:
        flash(
            _(
                "Delivery %(id)d is %(status)s, not dead; nothing to resend.",
                id=delivery_id,
                status=row.status,
            )
        )
        return redirect(url_for("admin.dead_letters"))
    audit.record(
        actor_name(),
        "delivery.resend",
        delivery_id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        last_error=row.last_error,
    )
    queue_again(delivery_id)  # commits, with the audit entry
    flash(
        _(
            "Delivery %(id)d to %(recipient)s is queued again.",
            id=delivery_id,
            recipient=row.recipient,
        )
    )
    # Back to the admin page the button was on; a Location header takes no line break.
    back = safe_next(request.form.get("back"))
    return redirect(back if back and back.startswith("/admin/") else url_for("admin.dead_letters"))
