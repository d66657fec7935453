"""Answers from chat and message buttons: signed action links, Slack buttons and /fika."""

from flask import Blueprint

bp = Blueprint("chat", __name__)

from web.chat import buttons, slack  # noqa: E402,F401  (routes register on import)
