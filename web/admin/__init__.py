"""The admin under ``/admin``: programmes, people and imports, rounds, insights, tokens, audit.

Every request is checked here, on the server, before any view runs: anonymous visitors are sent
to sign in, signed-in people who are not admins get 403. Views never re-check, so a new page is
protected by being in this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, abort

from core.i18n import gettext as _
from web.admin.access import is_admin, redirect_to_sign_in
from web.auth import current_person

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_admin():
    """Anonymous: to sign-in. Signed in but not an admin: 403. Admin: on to the view."""
    person = current_person()
    if person is None:
        return redirect_to_sign_in()
    if not is_admin(person):
        abort(
            403,
            _("This page is for Fika admins. Ask one to add your email to FIKA_ADMIN_EMAILS."),
        )
    return None


@bp.after_request
def no_store(response):
    """Admin pages show personal data: keep them out of shared caches and the back button."""
    response.headers["Cache-Control"] = "no-store"
    return response


from web.admin import (  # noqa: E402,F401  - views register on bp
    dashboard,
    insights_views,
    language,
    people,
    programmes,
    rounds,
    tokens,
)
