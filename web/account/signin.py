"""Sign in with a magic link, and sign out.

The request page answers the same whether or not the address is known. The link opens a page
with a button; only the POST from that button signs in, because mail scanners follow links in
email (a GET that consumed the single-use link would sign in the scanner and lock out the person).
In demo mode no mail leaves the machine and ``fika serve --demo`` prints the links in the
terminal, so there opening the link signs in at once.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from core import signin
from core.i18n import gettext as _
from web.account import bp
from web.account.forms import ConfirmForm, SignInForm
from web.account.oidc import oidc_enabled
from web.auth import current_person
from web.auth import sign_in as start_session
from web.auth import sign_out as end_session
from web.config import current_settings
from web.redirects import safe_next


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Ask for a link by email (or go to single sign-on when it is set up)."""
    form = SignInForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        if current_person() is not None:
            return redirect(form.next.data or url_for("account.breaks"))
    if form.validate_on_submit():
        person = signin.find_person(form.email.data)
        if person is not None:
            link = signin.issue_link(current_settings(), person, safe_next(form.next.data))
            signin.send_link(current_settings(), person, link)
        return render_template("account/sign_in_sent.html", email=form.email.data.strip())
    status = 400 if form.is_submitted() else 200
    return render_template("account/sign_in.html", form=form, oidc=oidc_enabled()), status


@bp.route("/sign-in/<token>", methods=["GET", "POST"])
def magic_link(token: str):
    """GET shows a 'Sign in' button (scanners may GET); its POST redeems the link once."""
    form = ConfirmForm()
    at_once = request.method == "GET" and current_settings().env == "demo"
    if at_once or (request.method == "POST" and form.validate_on_submit()):
        redeemed = signin.redeem(current_settings(), token)
        if redeemed is not None:
            person, next_url = redeemed[0], safe_next(redeemed[1])
            start_session(person)
            return redirect(next_url or url_for("account.breaks"))
        return _link_not_valid()
    if request.method == "POST":
        return render_template("account/magic.html", form=form, token=token), 400
    if not signin.peek(current_settings(), token):
        return _link_not_valid()
    return render_template("account/magic.html", form=form, token=token)


def _link_not_valid():
    form = SignInForm()
    return (
        render_template(
            "account/sign_in.html",
            form=form,
            oidc=oidc_enabled(),
            problem=_(
                "This sign-in link has expired or was already used. Ask for a new one below."
            ),
        ),
        410,
    )


@bp.post("/sign-out")
def sign_out():
    """End the session (POST, CSRF-checked like every form, so no other site can do it)."""
    end_session()
    return render_template("account/signed_out.html")
