"""Single sign-on with OpenID Connect (Authlib), when the three FIKA_OIDC_* settings are set.

The provider is found through its discovery document
(``<issuer>/.well-known/openid-configuration``); the identity is the ``email`` the ``userinfo``
endpoint returns, matched against people who have joined. An address the provider says is
unverified is refused: it could be anyone's.
"""

from __future__ import annotations

import logging

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, current_app, redirect, render_template, request, session, url_for

from core import signin
from core.i18n import gettext as _
from web.account import bp
from web.account.forms import SignInForm
from web.auth import sign_in as start_session
from web.config import current_settings
from web.redirects import safe_next

log = logging.getLogger("fika.oidc")
CLIENT = "sso"


def init_app(app: Flask) -> None:
    """Register the provider on an OAuth registry of this app's own (none without settings)."""
    issuer = app.config.get("FIKA_OIDC_ISSUER")
    if not issuer:
        return
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=app.config["FIKA_OIDC_CLIENT_ID"],
        client_secret=app.config["FIKA_OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "timeout": 10},
    )
    app.extensions["fika_oidc"] = oauth


def oidc_enabled() -> bool:
    """Whether single sign-on is set up (the sign-in page shows its button)."""
    return "fika_oidc" in current_app.extensions


def _client():
    if not oidc_enabled():
        abort(404)
    return current_app.extensions["fika_oidc"].create_client(CLIENT)


@bp.get("/sso")
def oidc_start():
    """Send the browser to the provider; it comes back to :func:`oidc_callback`."""
    client = _client()
    session["oidc_next"] = safe_next(request.args.get("next"))
    callback = current_settings().base_url + url_for("account.oidc_callback")
    try:
        return client.authorize_redirect(callback)
    except (OAuthError, requests.RequestException, ValueError) as error:
        log.error("single sign-on unavailable: %s", error)
        return _problem(_("Single sign-on is not reachable right now. Use a link by email."), 503)


@bp.get("/sso/callback")
def oidc_callback():
    """Exchange the code, read the verified email from userinfo, sign that person in."""
    client = _client()
    try:
        token = client.authorize_access_token()
        info = client.userinfo(token=token)
    except (OAuthError, requests.RequestException, ValueError) as error:
        log.warning("single sign-on failed: %s", error)
        return _problem(_("Single sign-on did not work. Please try again, or use a link."), 400)
    email = (info.get("email") or "").strip().lower()
    if not email or info.get("email_verified") is False:
        return _problem(_("Your sign-on account has no verified email address."), 403)
    person = signin.find_person(email)
    if person is None:
        return _problem(
            _(
                "Nobody with the address %(email)s has joined the coffee breaks yet. "
                "Join first, then sign in.",
                email=email,
            ),
            403,
        )
    next_url = session.get("oidc_next")
    start_session(person)
    return redirect(next_url or url_for("account.breaks"))


def _problem(message: str, status: int):
    return (
        render_template(
            "account/sign_in.html", form=SignInForm(), oidc=oidc_enabled(), problem=message
        ),
        status,
    )
