"""People in the admin: the filtered list and the CSV upload's preview-then-import flow."""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from core.db import db
from core.models import AuditLog, Person
from tests.core.helpers import add_person
from tests.web.admin_support import admin_client_for, admin_config, make_admin_and_person, sign_in

CSV = (
    "email,name,department,office,timezone\n"
    "ada@example.org,Ada Lovelace,Research,Stockholm,Europe/Stockholm\n"
    "bo@example.org,Bo Ek,Sales,,Europe/Oslo\n"
)


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


@pytest.fixture
def admin_client(app):
    return admin_client_for(app)


def upload(client, text: str | bytes, name: str = "people.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/admin/people/import",
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_preview_writes_nothing_then_import_writes_all(app, admin_client):
    preview = upload(admin_client, CSV)
    assert preview.status_code == 200
    assert b"2 rows: would create 2, would update 0" in preview.data
    with app.app_context():
        assert db.session.scalar(select(func.count(Person.id))) == 2  # admin + someone
    token = re.search(rb"/admin/people/import/([0-9a-f]{32})", preview.data).group(1).decode()
    done = admin_client.post(f"/admin/people/import/{token}")
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Person.id))) == 4
        actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["people.import.preview", "people.import"]
    # The checked file is used once.
    assert admin_client.post(f"/admin/people/import/{token}").status_code == 404


def test_preview_lists_each_bad_row_and_offers_no_import(app, admin_client):
    bad = CSV + ",Nobody,Sales,,\nzed@example.org,Zed,Ops,,Mars/Base\n"
    response = upload(admin_client, bad)
    assert response.status_code == 422
    text = response.data.decode()
    assert "<td>4</td><td>email</td><td>email is missing</td>" in text
    assert "<td>5</td><td>timezone</td><td>unknown time zone &#39;Mars/Base&#39;" in text
    assert "/admin/people/import/" not in text.replace('action="/admin/people/import"', "")
    encoding = upload(admin_client, (CSV + "jo@example.org,José,Ops,,\n").encode("latin-1"))
    assert encoding.status_code == 422 and b"not UTF-8" in encoding.data


def test_upload_without_file_says_so(admin_client):
    response = admin_client.post("/admin/people/import", data={})
    assert response.status_code == 400 and b"Choose a CSV file." in response.data


def test_list_searches_and_filters(app, admin_client):
    with app.app_context():
        add_person("ada@example.org", "Research", office=None)
        add_person("paused@example.org", "Research", paused_until=date.today() + timedelta(days=9))
        add_person("gone@example.org", "Legal", active=False)

    def emails(query: str) -> set[str]:
        page = admin_client.get(f"/admin/people?{query}").data.decode()
        return set(re.findall(r"<td>([a-z.\-]+@example\.org)</td>", page))

    assert emails("q=ADA") == {"ada@example.org"}
    assert emails("department=Research") == {"ada@example.org", "paused@example.org"}
    assert emails("office=remote") == {"ada@example.org"}
    assert emails("status=paused") == {"paused@example.org"}
    assert emails("status=inactive") == {"gone@example.org"}
    assert "boss@example.org" in emails("status=active")
    assert emails("q=%25") == set()  # a literal %, not a wildcard


def test_admin_pages_have_no_inline_script_and_forms_carry_csrf(make_app, app):
    strict = make_app(WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    with strict.app_context():
        admin = db.session.scalar(select(Person).where(Person.email == "boss@example.org"))
        if admin is None:
            admin, _ = make_admin_and_person()
        sign_in(client, admin)
    for path in ("/admin/people/import", "/admin/tokens", "/admin/programmes/new"):
        page = client.get(path).data.decode()
        assert "<script" not in page, path
        assert not re.search(r"<[^>]+\son[a-z]+=", page), path  # no inline event handlers
        assert 'name="csrf_token"' in page, path
    refused = client.post("/admin/tokens", data={"name": "x"})
    assert refused.status_code == 400  # no CSRF token: refused before the view


def test_a_cell_longer_than_the_csv_module_reads_is_a_bad_row(app, admin_client):
    """A 2 MB cell once ended the check with csv's "field larger than field limit" (a 500)."""
    cell = b"email,name,department\nada@example.org," + b"A" * 2_000_000 + b",Research\n"
    # Encoded here, in memory: the test client would spool this body to a file it never closes.
    boundary, body = encode_multipart(
        MultiDict({"file": FileStorage(BytesIO(cell), filename="people.csv", name="file")})
    )
    response = admin_client.post(
        "/admin/people/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 422  # like every file with a bad row: nothing is written
    text = response.get_data(as_text=True)
    assert "<td>2</td><td>name</td><td>longer than 200 characters" in text
    with app.app_context():
        assert db.session.scalar(select(func.count(Person.id))) == 2  # admin + someone
