"""Slack's Events API endpoint (``/slack/events``), the request URL of the app manifest.

Verified like every Slack route (signing secret, at most five minutes old) before the body is
read. It answers Slack's ``url_verification`` handshake with the challenge, so the manifest's
event URL is accepted when the app is created, and acknowledges event callbacks (the manifest's
``app_home_opened``, ``member_joined_channel``, ``member_left_channel``) with a 200 at once, as
Slack asks within three seconds. Acting on them (channel sync, App Home) and deduplicating
Slack's retries by ``event_id`` come with that work; until then they are logged and dropped.
"""

from __future__ import annotations

import json
import logging

from flask import abort, jsonify

from web.chat import bp
from web.chat.slack import verified_body
from web.chat.slack_home import handle_app_home_opened
from web.extensions import csrf

log = logging.getLogger("fika.slack")

#: Envelopes Slack sends to the events URL (https://docs.slack.dev/apis/events-api/).
ACKNOWLEDGED = {"event_callback", "app_rate_limited"}
#: Slack's challenge is a short token; anything long or not text did not come from Slack.
MAX_CHALLENGE = 200


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
    log.info("slack event=%s id=%s (not acted on yet)", event.get("type"), envelope.get("event_id"))
    return "", 200
