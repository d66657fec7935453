"""The issue's "done when": two programmes, 500 people from a CSV, preview and run a round, the
heat map of who met whom across departments; and nobody but an admin can do any of it."""

from __future__ import annotations

import re
from io import BytesIO

import pytest

from tests.web.admin_support import (
    MONDAY,
    admin_config,
    make_admin_and_person,
    programme_form,
    sign_in,
)
from tests.web.test_import_people import big_file


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


@pytest.mark.slow
def test_an_admin_sets_up_imports_runs_and_sees_the_heat_map(app):
    admin_client, other_client = app.test_client(), app.test_client()
    with app.app_context():
        admin, person = make_admin_and_person()
        sign_in(admin_client, admin)
        sign_in(other_client, person)
    data = big_file(500).replace(b"Europe/Berlin", b"Europe/Stockholm")
    steps = [
        ("post", "/admin/programmes/new", {"data": programme_form("Weekly 1:1")}),
        (
            "post",
            "/admin/people/import",
            {
                "data": {"file": (BytesIO(data), "people.csv")},
                "content_type": "multipart/form-data",
            },
        ),
    ]
    for method, path, kwargs in steps:
        assert getattr(other_client, method)(path, **_fresh(kwargs, data)).status_code == 403
    assert (
        admin_client.post("/admin/programmes/new", data=programme_form("Weekly 1:1")).status_code
        == 302
    )
    preview = admin_client.post(
        "/admin/people/import",
        data={"file": (BytesIO(data), "people.csv")},
        content_type="multipart/form-data",
    )
    assert b"500 rows: would create 500" in preview.data
    token = re.search(rb"/admin/people/import/([0-9a-f]{32})", preview.data).group(1).decode()
    assert other_client.post(f"/admin/people/import/{token}").status_code == 403
    assert admin_client.post(f"/admin/people/import/{token}").status_code == 302
    programmes = admin_client.get("/admin/programmes").data.decode()
    assert "Weekly 1:1" in programmes and "Daily digital coffee break" in programmes
    round_preview = admin_client.get(f"/admin/rounds/preview?programme=1&date={MONDAY}")
    assert b"for 502 people" in round_preview.data
    assert other_client.get(f"/admin/rounds/preview?programme=1&date={MONDAY}").status_code == 403
    form = {"programme": "1", "date": MONDAY.isoformat()}
    assert other_client.post("/admin/rounds/run", data=form).status_code == 403
    assert admin_client.post("/admin/rounds/run", data=form).status_code == 302
    heat = admin_client.get("/admin/insights?from=2026-11-01&to=2026-12-31").data.decode()
    # The file's 7 departments (the admin's "People" is one of them): 7 x 7 cells.
    assert heat.count('class="cell"') == 49
    numbers = dict(re.findall(r'id="n-([a-z]+)">([^<]*)<', heat))
    assert int(numbers["breaks"]) > 100 and numbers["left"] == "0", numbers
    assert '<th scope="row">2026-11-30</th><td>502</td>' in heat  # everyone placed
    assert other_client.get("/admin/insights").status_code == 403


def _fresh(kwargs: dict, data: bytes) -> dict:
    """A new file object per request (the test client consumes it)."""
    if "content_type" in kwargs:
        return {**kwargs, "data": {"file": (BytesIO(data), "people.csv")}}
    return kwargs
