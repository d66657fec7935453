"""The people's side, under ``/me``: sign-in, my coffee breaks, preferences, pause, privacy.

Every view here acts on the signed-in person only (``web.auth.current_person``); ids that come
in a form or URL are checked against that person, so nobody can read or change another's data.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/me")

from web.account import breaks, oidc, preferences, privacy, signin, teams  # noqa: E402, F401
