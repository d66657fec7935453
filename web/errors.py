"""Error pages and JSON errors: never a traceback to a user, rollback on failure."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from core.db import db
from core.i18n import gettext as _
from core.i18n import lazy_gettext

#: The page titles of the HTTP errors people meet, and what to say when a view gave no reason.
TITLES = {
    400: lazy_gettext("Bad Request"),
    401: lazy_gettext("Unauthorized"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not Found"),
    405: lazy_gettext("Method Not Allowed"),
    409: lazy_gettext("Conflict"),
    410: lazy_gettext("Gone"),
    413: lazy_gettext("Request Entity Too Large"),
    429: lazy_gettext("Too Many Requests"),
}
DEFAULT_MESSAGES = {
    400: lazy_gettext("Fika could not understand that request. Nothing was changed."),
    403: lazy_gettext("You may not do that. Nothing was changed."),
    404: lazy_gettext("There is nothing at this address. Check the link, or start again."),
    405: lazy_gettext("This page cannot be used that way. Nothing was changed."),
    413: lazy_gettext("That was too much to send at once. Nothing was saved."),
    429: lazy_gettext("Too many tries in a short time. Please wait a minute and try again."),
}


def error_response(status: int, message: str):
    """The one JSON error shape the API answers with: ``{"error": ..., "status": ...}``."""
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def page_words(exc: HTTPException) -> tuple[str, str]:
    """The error page's title and message in the page's language.

    A view's own reason (``abort(404, _("..."))``) is already translated; werkzeug's default
    description (English) is replaced by ours when we have one.
    """
    code = exc.code or 500
    title = str(TITLES.get(code, exc.name))
    message = exc.description
    if message == type(exc).description and code in DEFAULT_MESSAGES:
        message = str(DEFAULT_MESSAGES[code])
    return title, message


def register(app: Flask) -> None:
    """Install handlers for HTTP errors and unexpected exceptions."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        """The error as a page or JSON, with the headers the exception carries.

        Those headers are part of the answer: ``Allow`` on a 405 (RFC 9110 requires it),
        ``WWW-Authenticate`` on a 401, ``Retry-After`` on a 429 or 503, ``Location`` on a
        redirect raised as an exception. The exception's own response would have them;
        a page of ours must keep them too. Its own Content-Type and Content-Length are left
        out: they describe werkzeug's HTML body, not this one.
        """
        code = exc.code or 500
        if _wants_json():
            response = error_response(code, exc.description or exc.name)
        else:
            title, message = page_words(exc)
            page = render_template("error.html", code=code, title=title, message=message)
            response = app.make_response((page, code))
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        db.session.rollback()
        if not exc.connection_invalidated:
            return unexpected(exc)
        # The database dropped the connection (a restart, a failover): SQLAlchemy has thrown
        # the pool away, so the next request connects afresh. Nothing was saved.
        app.logger.warning("database connection lost on %s %s", request.method, request.path)
        message = _("The database was briefly unavailable. Nothing was saved; please try again.")
        if _wants_json():
            response = error_response(503, message)
        else:
            response = app.make_response(
                (
                    render_template("error.html", code=503, title=_("Try again"), message=message),
                    503,
                )
            )
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        message = _("Something went wrong on our side. Nothing was saved; please try again.")
        if _wants_json():
            return error_response(500, message)
        return render_template(
            "error.html", code=500, title=_("Server error"), message=message
        ), 500
