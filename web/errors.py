"""Error pages and JSON errors: never a traceback to a user, rollback on failure."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from core.db import db


def error_response(status: int, message: str):
    """The one JSON error shape the API answers with: ``{"error": ..., "status": ...}``."""
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def register(app: Flask) -> None:
    """Install handlers for HTTP errors and unexpected exceptions."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _wants_json():
            return error_response(exc.code or 500, exc.description or exc.name)
        return (
            render_template("error.html", code=exc.code, title=exc.name, message=exc.description),
            exc.code,
        )

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        db.session.rollback()
        if not exc.connection_invalidated:
            return unexpected(exc)
        # The database dropped the connection (a restart, a failover): SQLAlchemy has thrown
        # the pool away, so the next request connects afresh. Nothing was saved.
        app.logger.warning("database connection lost on %s %s", request.method, request.path)
        message = "The database was briefly unavailable. Nothing was saved; please try again."
        if _wants_json():
            response = error_response(503, message)
        else:
            response = app.make_response(
                (render_template("error.html", code=503, title="Try again", message=message), 503)
            )
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        message = "Something went wrong on our side. Nothing was saved; please try again."
        if _wants_json():
            return error_response(500, message)
        return render_template("error.html", code=500, title="Server error", message=message), 500
