"""Schemathesis against /api/openapi.json on a live app (loopback, a thread of this process).

Through its pytest plugin: no 5xx, and every response matches the document (status code,
content type, body schema). Through its command line, as an operator would run it:
``schemathesis run --checks all`` finds nothing, so the document says what the server
enforces (valid requests are accepted, invalid ones refused, 405s name the allowed methods,
credentials are required...). Deterministic: the same requests on every run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

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
from core.models import Programme
from tests.core.helpers import add_person
from tests.web.schemathesis_hooks import TEAMS_PROGRAMME

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
        # A learning-team programme whose teams GET .../teams lists (the hooks' TEAMS_PROGRAMME).
        learning = Programme(
            name="Learning teams",
            kind="learning_team",
            topic="Python",
            group_size=4,
            days=["thu"],
            starts_on=date(2027, 1, 4),
            ends_on=date(2027, 3, 25),
        )
        db.session.add(learning)
        db.session.flush()
        assert learning.id == TEAMS_PROGRAMME
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
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)  # <int:id> -> {id}
        assert path in document["paths"], rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], (method, rule.rule)


#: Test cases per operation and phase; with the coverage phase's boundary cases (every zone of
#: the enum among them) about 1,700 requests, some 30 seconds.
CLI_EXAMPLES = 20


@pytest.mark.slow
# On PostgreSQL, the production database, only: the command's stateful phase takes minutes, and
# test_api_matches_its_document above covers SQLite against the same document.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_schemathesis_run_with_every_check_finds_nothing(live, tmp_path):
    """The command line with ``--checks all``, every phase, against the served app.

    ``tests/web/schemathesis_hooks.py`` makes valid requests keep the three rules between
    fields that JSON Schema cannot state (the document says them in words); everything else is
    checked as schemathesis finds it.
    """
    base, token = live
    root = Path(__file__).resolve().parents[2]
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base}/api/openapi.json",
        "--checks",
        "all",
        # DELETE /api/v1/programmes/{id} switches a programme off and keeps it (its rounds and
        # history stay; README, "Admin and API"), so a GET after it is a 200 by design, which
        # the use-after-free check (ST301) would report once its stateful phase reaches it.
        "--exclude-checks",
        "use_after_free",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(CLI_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.web.schemathesis_hooks",
        "PYTHONPATH": str(root),
    }
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
