"""Schemathesis against /api/openapi.json on a live app (loopback): no 5xx, and every response
matches the document (status code, content type, body schema)."""

from __future__ import annotations

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from core.api_tokens import create_token
from core.db import db
from tests.core.helpers import add_person

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def live(app):
    """The app served by werkzeug on 127.0.0.1 (a free port) in a thread, and a valid token."""
    with app.app_context():
        add_person("known@example.org", "Sales")
        add_person("boss@example.org", "People")
        _, secret = create_token("schemathesis", "test")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", secret
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture
def api_schema(live):
    base, _ = live
    return schemathesis.openapi.from_url(f"{base}/api/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_matches_its_document(case, live):
    base, token = live
    case.call_and_validate(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )


def test_document_lists_every_api_route(app):
    """Every /api rule in the app is in the document, with each of its methods."""
    document = app.test_client().get("/api/openapi.json").json
    assert document["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        path = rule.rule.replace("<path:email>", "{email}")
        assert path in document["paths"], rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], (method, rule.rule)
