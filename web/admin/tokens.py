"""API tokens (create: shown once; revoke) and the audit log, in the admin."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from core import audit
from core.api_tokens import all_tokens, create_token, revoke
from core.db import db
from core.i18n import gettext as _
from core.models import ApiToken
from web.admin import bp
from web.admin.access import actor_name
from web.admin.forms import ActionForm, TokenForm
from web.input_rules import page_arg

AUDIT_PAGE = 100


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    """List tokens; on a valid POST create one and show its secret this once."""
    form = TokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        token, secret = create_token(form.name.data, actor_name())
        db.session.flush()
        audit.record(actor_name(), "token.create", token_id=token.id, name=token.name)
        db.session.commit()
        form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 400
    response = render_template(
        "admin/tokens.html", form=form, tokens=all_tokens(), secret=secret, action=ActionForm()
    )
    return response, status


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Stop a token working, from the next request on."""
    if not ActionForm().validate_on_submit():
        abort(400, _("The form expired; please go back and try again."))
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404, _("No such token."))
    revoke(token)
    audit.record(actor_name(), "token.revoke", token_id=token.id, name=token.name)
    db.session.commit()
    flash(_("Token %(name)s is revoked.", name=repr(token.name)))
    return redirect(url_for("admin.tokens"))


@bp.get("/audit")
def audit_log():
    """Who did what and when, newest first."""
    page = page_arg(AUDIT_PAGE)
    action = request.args.get("action", "")[:64]
    entries = audit.recent(AUDIT_PAGE + 1, (page - 1) * AUDIT_PAGE, action or None)
    return render_template(
        "admin/audit.html",
        entries=entries[:AUDIT_PAGE],
        more=len(entries) > AUDIT_PAGE,
        page=page,
        action=action,
    )
