"""Security that applies to every response: headers, cookie flags and rate limits.

Headers: a Content-Security-Policy that allows no inline script and no framing, nosniff, a
same-origin Referrer-Policy (links carry tokens in their path), and ``no-store`` on personal
pages. Cookies: ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when FIKA_BASE_URL is https.

Rate limits (Flask-Limiter) guard sign-in and the opt-in form: only their POSTs, which cost one
round trip to the store each (a 429 also says when to come back, in ``Retry-After``); every other
request passes the limiter at once (its request identity is empty: see ``_limited_request``).
Each app gets its own
:class:`~flask_limiter.Limiter`, so tests and the CLI can build several apps in one process
without sharing counters or storage; FIKA_RATELIMIT_STORAGE_URI chooses the store (``memory://``
counts per process, so production with more than one worker wants ``redis://``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: Endpoints whose POST is rate limited per client address, and the setting holding the limit.
LIMITED_ENDPOINTS = {
    "account.sign_in": "FIKA_RATELIMIT_SIGNIN",
    "account.magic_link": "FIKA_RATELIMIT_SIGNIN",
    "optin.join": "FIKA_RATELIMIT_FORM",
}

#: Per address asked for, on top of the per-client limit: nobody gets flooded with sign-in mail.
SIGNIN_PER_EMAIL = "5 per 15 minutes"
#: Endpoints whose POST may email a sign-in link to the address it names (the opt-in form
#: does for an address that already takes part); they share one count per address.
PER_EMAIL_ENDPOINTS = ("account.sign_in", "optin.join")


def init_app(app: Flask) -> Limiter:
    """Install headers, cookie flags and rate limits; call after the blueprints are registered."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config["FIKA_BASE_URL"].startswith("https://")
    app.after_request(add_security_headers)
    return _install_limiter(app)


def add_security_headers(response: Response) -> Response:
    """The same headers on every response, error pages and static files included."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.blueprint == "account" or "Set-Cookie" in response.headers:
        # Personal pages and anything that sets the session never sit in a shared cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def _limit(setting: str) -> Callable[[], str]:
    return lambda: current_app.config[setting]


def _email_key() -> str:
    """The address a form may send a sign-in link to, so one inbox cannot be flooded."""
    return "signin-email:" + (request.form.get("email") or "").strip().lower()


def _install_limiter(app: Flask) -> Limiter:
    """A limiter of this app's own, wrapped around the limited views after registration."""
    app.config["RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)
    app.config["RATELIMIT_STORAGE_URI"] = app.config["FIKA_RATELIMIT_STORAGE_URI"]
    # X-RateLimit-* headers on every limited response would cost two more round trips to the
    # store per POST (the window's count and its expiry); a 429 gets Retry-After instead.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter = Limiter(
        get_remote_address,
        storage_uri=app.config["FIKA_RATELIMIT_STORAGE_URI"],
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "fika"),
        # A store that is down must not take sign-in or the form down with it.
        in_memory_fallback_enabled=True,
        request_identifier=_limited_request,
    )
    limiter.init_app(app)
    for endpoint, setting in LIMITED_ENDPOINTS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        limited = limiter.limit(_limit(setting), methods=["POST"])(view)
        if endpoint in PER_EMAIL_ENDPOINTS:
            limited = limiter.limit(SIGNIN_PER_EMAIL, key_func=_email_key, methods=["POST"])(
                limited
            )
        app.view_functions[endpoint] = _post_through(limited, view)
    app.extensions["fika_limiter"] = limiter
    app.after_request(_retry_after)
    return limiter


def _limited_request() -> str:
    """The endpoint of a limited POST, else "": a request no limit applies to.

    Flask-Limiter checks every request before it runs, for default and blueprint limits, and
    works out each request's limits first. Fika has neither (every limit sits on a view and is
    checked by that view's wrapper), so for any other request this identity makes the check
    return at once: that lookup was a fifth of the opt-in form's GET.
    """
    if request.method == "POST" and request.endpoint in LIMITED_ENDPOINTS:
        return request.endpoint
    return ""


def _post_through(limited: Callable, view: Callable) -> Callable:
    """The view, reached through its rate limits on POST and directly otherwise (GET, HEAD)."""

    @wraps(view)
    def dispatch(*args, **kwargs):
        return (limited if request.method == "POST" else view)(*args, **kwargs)

    return dispatch


def _retry_after(response: Response) -> Response:
    """On a 429, ``Retry-After``: the seconds until the limit's window lets this client in."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        limit = current_app.extensions["fika_limiter"].current_limit
        try:
            # reset_at: the window's end rounded up to a whole second, as Redis counts its TTL
            wait = limit.reset_at - time.time() if limit else 60.0
        except Exception:  # the store went away since it counted: a minute is a fair guess
            wait = 60.0
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response
