"""The admin's own language: a switch in the admin layout, kept in the session.

``session["language"]`` is what the app's locale selector (``web._plurals``) reads first; the
choice "automatic" removes it, so ``Accept-Language`` and then ``FIKA_LANGUAGE`` decide again.
"""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for

from core.i18n import LANGUAGES
from core.i18n import gettext as _
from web.admin import bp
from web.admin.forms import ActionForm
from web.redirects import safe_next

#: The switch's values: a language Fika speaks, or "automatic" (the browser's, then the default).
AUTOMATIC = "automatic"


@bp.post("/language")
def switch_language():
    """Remember the chosen language for this session and go back to the page it was chosen on."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, _("The form expired; please go back and try again."))
    choice = request.form.get("language", "")
    if choice == AUTOMATIC:
        session.pop("language", None)
    elif choice in LANGUAGES:
        session["language"] = choice
    else:
        abort(400, _("Choose one of %(choices)s.", choices=", ".join((*LANGUAGES, AUTOMATIC))))
    return redirect(safe_next(request.form.get("next")) or url_for("admin.dashboard"))


@bp.context_processor
def status_names() -> dict:
    """The words admin pages show for stored states (the values themselves stay English)."""
    return {
        "status_names": {"active": _("Active"), "paused": _("Paused"), "inactive": _("Inactive")},
        "round_status_names": {
            "planned": _("planned"),
            "missed": _("missed"),
            "nudged": _("nudged"),
        },
        "delivery_status_names": {
            "pending": _("pending"),
            "retrying": _("retrying"),
            "sent": _("sent"),
            "dead": _("dead"),
        },
    }
