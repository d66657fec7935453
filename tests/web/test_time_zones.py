"""Only IANA time zones, at every way in: the form, the preferences, the admin, the API, CSV files
and FIKA_TIMEZONE. ``localtime`` (a file of the host: the server's own zone) is refused, and so is
a 1 MB name, which once reached the file system and answered 500.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from core.models import Person, Programme
from core.people_import import check_csv
from core.settings import SettingsError
from core.zones import is_zone, zone_names
from tests.core.helpers import add_person
from tests.web.admin_support import admin_config, programme_form
from tests.web.admin_support import people_count as people
from tests.web.test_account_pages import GOOD_PREFS, sign_in_as
from tests.web.test_optin import GOOD

MEGABYTE_ZONE = "Europe/" + "x" * 1_000_000


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


def test_only_iana_zones_are_zones():
    assert is_zone("Europe/Oslo") and is_zone("UTC") and is_zone("America/Argentina/Salta")
    for name in ["localtime", "posixrules", "europe/oslo", " Europe/Oslo", "Europe/../UTC",
                 "/etc/localtime", "", MEGABYTE_ZONE, "Europe/Oslo\x00", None, 3]:  # fmt: skip
        assert not is_zone(name), name
    assert "localtime" not in zone_names()


@pytest.mark.parametrize("zone", ["localtime", MEGABYTE_ZONE], ids=["localtime", "1 MB"])
def test_the_opt_in_form_refuses_a_zone_that_is_not_iana(app, client, zone):
    response = client.post("/", data=GOOD | {"timezone": zone})
    assert response.status_code == 400
    assert "Unknown time zone" in response.get_data(as_text=True)
    assert len(response.data) < 200_000  # the message quotes the start of it, not all of it
    assert people(app) == 0


@pytest.mark.parametrize("zone", ["localtime", MEGABYTE_ZONE], ids=["localtime", "1 MB"])
def test_the_preferences_refuse_a_zone_that_is_not_iana(app, client, zone):
    with app.app_context():
        ana = add_person("ana@example.org", "Research", timezone="Europe/Oslo").id
    sign_in_as(client, ana)
    response = client.post("/me/preferences", data=GOOD_PREFS | {"timezone": zone})
    assert response.status_code == 400
    assert "Unknown time zone" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, ana).timezone == "Europe/Oslo"


def test_the_admin_refuses_a_programme_zone_that_is_not_iana(app, admin):
    response = admin.post("/admin/programmes/new", data=programme_form("Tea", timezone="localtime"))
    assert response.status_code == 400 and b"Unknown time zone" in response.data
    with app.app_context():
        assert db.session.scalar(select(Programme).where(Programme.name == "Tea")) is None


def test_the_api_refuses_a_zone_that_is_not_iana(app, api):
    client, headers = api
    body = {"name": "Ada", "department": "Research", "timezone": "localtime"}
    response = client.put("/api/v1/people/ada@example.org", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "timezone"
    assert people(app) == 0


def test_a_csv_file_with_a_zone_that_is_not_iana_is_refused(app):
    data = b"email,name,department,timezone\nada@example.org,Ada,Research,localtime\n"
    with app.app_context():
        report, _ = check_csv(data, "Europe/Stockholm", dry_run=False)
    assert [(e.line, e.column) for e in report.errors] == [(2, "timezone")]
    assert people(app) == 0


def test_the_organisation_zone_must_be_iana(make_app):
    with pytest.raises(SettingsError, match="FIKA_TIMEZONE: unknown time zone 'localtime'"):
        make_app(FIKA_TIMEZONE="localtime")
