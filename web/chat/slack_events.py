"""Slack's Events API endpoint (``/slack/events``), the request URL of the app manifest.

Verified like every Slack route (signing secret, at most five minutes old) before the body is
read. It answers Slack's ``url_verification`` handshake with the challenge, so the manifest's
event URL is accepted when the app is created, and acknowledges event callbacks (the manifest's
``app_home_opened``, ``member_joined_channel``, ``member_left_channel``) with a 200 at once, as
Slack asks within three seconds. An event some handler in ``core.slack_events.HANDLERS``
acts on (a linked channel's ``member_joined_channel``/``member_left_channel``) is first kept as
a ``slack_event`` row, once per ``event_id`` (Slack's retries add nothing), and acted on after
the answer: on a thread of this process right away, and by the clock's tick for any a crash
left behind. Adding an event type is one entry in that registry; nothing here changes.
"""

from __future__ import annotations

import json
import logging
import threading

from flask import abort, current_app, jsonify

from core.runtime import Runtime
from core.slack_events import process_events, record_event
from web.chat import bp
from web.chat.slack import verified_body
from web.chat.slack_home import handle_app_home_opened
from web.config import current_settings
from web.extensions import csrf

log = logging.getLogger("fika.slack")

#: Envelopes Slack sends to the events URL (https://docs.slack.dev/apis/events-api/).
ACKNOWLEDGED = {"event_callback", "app_rate_limited"}
#: Slack's challenge is a short token; anything long or not text did not come from Slack.
MAX_CHALLENGE = 200
#: The key of the app's extensions holding its ``app_context`` (for the work after the answer).
CONTEXT = "fika.slack_events.context"
#: The thread acting on the last recorded event (tests wait for it; None before the first).
last_work: threading.Thread | None = None


@bp.record_once
def _keep_app_context(state) -> None:
    state.app.extensions[CONTEXT] = state.app.app_context


def _work_after_answer(runtime: Runtime) -> None:
    """Act on the recorded events on a thread, so the 200 goes out first."""
    global last_work

    def work() -> None:
        try:
            with runtime.unit_of_work():
                process_events(runtime.settings)
        except Exception:  # noqa: BLE001 - the clock's tick picks the rows up again
            log.exception("slack: acting on events failed")

    last_work = threading.Thread(target=work, name="slack-events", daemon=True)
    last_work.start()


@bp.post("/slack/events")
@csrf.exempt  # Slack's signature is the proof of origin
def slack_events():
    """Slack's url_verification handshake, and an immediate 200 for each event."""
    body = verified_body()
    try:
        envelope = json.loads(body)
        kind = envelope["type"]
    except (ValueError, TypeError, KeyError):  # UnicodeDecodeError is a ValueError
        abort(400, "Not a Slack Events API envelope.")
    if not isinstance(kind, str):
        abort(400, "Not a Slack Events API envelope.")
    if kind == "url_verification":
        challenge = envelope.get("challenge")
        if not isinstance(challenge, str) or not 0 < len(challenge) <= MAX_CHALLENGE:
            abort(400, "url_verification without a challenge.")
        return jsonify({"challenge": challenge})
    if kind not in ACKNOWLEDGED:
        abort(400, "Unknown Slack Events API envelope type.")
    event = envelope.get("event") if isinstance(envelope.get("event"), dict) else {}
    if kind == "event_callback" and event.get("type") == "app_home_opened":
        handle_app_home_opened(event)  # publishes the Home tab after this answer
        return "", 200
    new = kind == "event_callback" and record_event(envelope)
    log.info("slack event=%s id=%s new=%s", event.get("type"), envelope.get("event_id"), new)
    if new:
        runtime = Runtime(current_settings(), current_app.extensions[CONTEXT])
        _work_after_answer(runtime)
    return "", 200
