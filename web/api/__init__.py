"""The JSON API under ``/api``: people sync for HR systems, described by ``/api/openapi.json``.

Every ``/api/v1`` call needs either a bearer token an admin created (``Authorization: Bearer
fika_…``) or an admin's signed-in session. No credentials: 401; a signed-in non-admin: 403. Token
requests are exempt from CSRF (a browser never attaches a bearer token on its own); a session
making a change must send the CSRF token (``X-CSRFToken``) like any form.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, g, request

from core.api_tokens import find_active
from core.db import db
from web.admin.access import is_admin
from web.auth import current_person
from web.errors import error_response
from web.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)

#: Endpoints anyone may read: the API's description.
PUBLIC = frozenset({"api.openapi"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _unauthorised(message: str):
    response = error_response(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="fika"'
    return response


@bp.before_request
def authenticate():
    """Let a valid token or an admin session through; answer 401 or 403 otherwise."""
    if request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return _unauthorised("Authorization: expected 'Bearer <token>'")
        token = find_active(secret.strip())
        if token is None:
            return _unauthorised("the bearer token is not valid or has been revoked")
        now = datetime.now(UTC)
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            token.last_used_at = now
            db.session.commit()
        g.api_actor = f"token:{token.name}"
        return None
    person = current_person()
    if person is None:
        return _unauthorised("sign in as an admin or send a bearer token")
    if not is_admin(person):
        return error_response(403, "only admins may use the API")
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    g.api_actor = person.email
    return None


from web.api import openapi, people, programmes  # noqa: E402,F401  - routes register on bp
