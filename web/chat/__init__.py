"""Answers from chat and message buttons: signed action links, Slack buttons, /fika and events."""

from flask import Blueprint

bp = Blueprint("chat", __name__)

from web.chat import buttons, slack, slack_events, teams_bot  # noqa: E402,F401  (routes register on import)
