"""Fixtures the web tests share: an admin's client and an API client with a bearer token."""

from __future__ import annotations

import pytest

from core.api_tokens import create_token
from core.db import db
from tests.web.admin_support import admin_client_for


@pytest.fixture
def admin(app):
    """A test client signed in as the admin (who is created, with an ordinary person)."""
    return admin_client_for(app)


@pytest.fixture
def api(app):
    """A client and the headers of a valid bearer token."""
    with app.app_context():
        _, secret = create_token("rules", "test")
        db.session.commit()
    return app.test_client(), {"Authorization": f"Bearer {secret}"}
