"""Answers from chat and message buttons: signed action links, Slack buttons, /fika and events."""

from flask import Blueprint

bp = Blueprint("chat", __name__)

from web.chat import (  # noqa: E402,F401  (routes register on import)
    buttons,
    slack,
    slack_events,
    slack_home,
    teams_bot,
)
