"""Who is an admin, checked on the server for every admin page and API call.

An admin is a signed-in person whose email is in FIKA_ADMIN_EMAILS (case-insensitive) or, with
OpenID Connect, who carries the FIKA_ADMIN_GROUP group claim (the sign-in code keeps the user's
groups in ``session["groups"]``).
"""

from __future__ import annotations

from flask import redirect, request, session, url_for
from werkzeug.routing import BuildError

from core.models import Person
from web.auth import current_person
from web.config import current_settings


def is_admin(person: Person | None) -> bool:
    """Whether ``person`` (the signed-in one) may use the admin and the API with a session."""
    if person is None:
        return False
    if person.email.lower() in current_settings().admin_emails:
        return True
    group = current_settings().admin_group
    groups = session.get("groups")
    return bool(group) and isinstance(groups, list) and group in groups


def sign_in_url() -> str:
    """Where anonymous visitors go: the sign-in page, coming back here afterwards."""
    try:
        return url_for("account.sign_in", next=request.full_path)
    except BuildError:  # sign-in not installed in this build: the conventional path
        return "/sign-in?next=" + request.full_path


def redirect_to_sign_in():
    """A redirect response to the sign-in page."""
    return redirect(sign_in_url())


def actor_name() -> str:
    """How the audit log names the signed-in admin."""
    person = current_person()
    return person.email if person is not None else "anonymous"
