"""What a request carries besides its forms: ids, pages and offsets, and text in the query.

Each of these once answered 500 (issue 21); now each is a 4xx that says what is wrong. A NUL in
the opt-in form's name or department is ``test_free_text.py``'s, a line break in ``next`` for a
signed-in visitor ``test_redirects.py``'s, and ``test_every_input.py`` fuzzes every parameter.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from core.models import Programme
from tests.core.helpers import add_person
from tests.web.admin_support import admin_config
from tests.web.admin_support import people_count as people
from tests.web.test_account_pages import GOOD_PREFS, sign_in_as
from tests.web.test_optin import GOOD
from web.input_rules import MAX_ID, record_id, whole_number


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1), ("007", 7), (str(MAX_ID), MAX_ID), ("0", None), (str(MAX_ID + 1), None),
     ("²", None), ("١٢", None), ("-1", None), (" 1", None), ("1_0", None), ("1e3", None),
     ("1" * 5000, None), ("", None), (None, None), (True, None)],
)  # fmt: skip
def test_an_id_is_ascii_digits_within_what_the_databases_take(value, expected):
    assert whole_number(value, 1, MAX_ID) == expected
    if expected is None:
        with pytest.raises(ValueError):
            record_id(value)


@pytest.mark.parametrize("page", [str(2**63), str(2**64), "9" * 30, "1" * 5000, "²", "0", "-1"])
def test_a_page_past_the_end_of_any_list_is_a_400_naming_it(app, admin, page):
    for path in ("/admin/people", "/admin/audit"):
        response = admin.get(path, query_string={"page": page})
        assert response.status_code == 400, (path, page)
        assert "page: expected a whole number from 1 to" in response.get_data(as_text=True)


def test_a_page_past_the_last_one_is_an_empty_list(admin):
    response = admin.get("/admin/people", query_string={"page": "20000000"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", [str(2**31), str(2**63), "1" * 5000, "²"])
def test_an_id_in_the_query_that_no_row_can_have_is_a_400(admin, value):
    for path in ("/admin/people", "/admin/rounds", "/admin/rounds/preview", "/admin/insights"):
        response = admin.get(path, query_string={"programme": value})
        assert response.status_code == 400, (path, value)
        assert "programme: expected the id of" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", [str(2**31), str(2**63), "9" * 30, "1" * 5000])
def test_an_id_in_the_path_that_no_row_can_have_matches_no_route(admin, value):
    assert admin.get(f"/admin/rounds/{value}").status_code == 404
    assert admin.get(f"/admin/programmes/{value}").status_code == 404
    assert admin.post(f"/admin/deliveries/{value}/resend").status_code == 404
    assert admin.get(f"/admin/rounds/{MAX_ID}").status_code == 404  # the largest id: no such row


def test_huge_ids_in_a_form_are_field_errors(app, client):
    with app.app_context():
        ana = add_person("ana@example.org", "Research").id
    sign_in_as(client, ana)
    huge = str(2**40)
    response = client.post("/me/preferences", data=GOOD_PREFS | {"avoid": [huge]})
    assert response.status_code == 400
    response = client.post(
        "/me/preferences", data=GOOD_PREFS | {"programmes_shown": "1", "programmes": [huge]}
    )
    assert response.status_code == 400
    assert "Choose programmes from the list." in response.get_data(as_text=True)
    joined = client.post("/", data=GOOD | {"programmes_shown": "1", "programmes": ["²", huge]})
    assert joined.status_code == 400 and people(app) == 1


@pytest.mark.parametrize("offset", [str(2**63), "1" * 5000, "²", ""])
def test_the_api_refuses_an_offset_or_limit_it_cannot_use_with_json(api, offset):
    client, headers = api
    for name in ("offset", "limit"):
        response = client.get("/api/v1/people", query_string={name: offset}, headers=headers)
        assert response.status_code == 400
        assert response.json["error"].startswith(f"{name}: expected a whole number from")


@pytest.mark.parametrize("name", ["q", "department", "office", "status", "x\x00y"])
def test_a_nul_in_any_query_parameter_is_a_400_naming_it(admin, name):
    query = {name: "Ana\x00Berg"} if "\x00" not in name else {name: "1"}
    response = admin.get("/admin/people", query_string=query)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "contains a NUL character" in text
    assert name.replace("\x00", "\\x00") in text


def test_a_nul_in_the_api_search_is_a_json_400(api):
    client, headers = api
    response = client.get("/api/v1/people", query_string={"q": "a\x00"}, headers=headers)
    assert response.status_code == 400 and "NUL" in response.json["error"]


@pytest.mark.parametrize("bad", ["\x00", "\x85", "\u2028", "\x1b"], ids=repr)
def test_the_api_search_takes_one_line_of_text_like_every_way_in(api, bad):
    client, headers = api
    response = client.get("/api/v1/people", query_string={"q": f"An{bad}a"}, headers=headers)
    assert response.status_code == 400


def test_a_colleague_search_with_a_nul_finds_nobody(app, client):
    with app.app_context():
        ana = add_person("ana@example.org", "Research").id
        add_person("ana.two@example.org", "Sales")
    sign_in_as(client, ana)
    response = client.post("/me/preferences", data=GOOD_PREFS | {"search": "1", "q": "An\x00a"})
    assert response.status_code == 200 and "Ana Two" not in response.get_data(as_text=True)


def test_resend_goes_back_only_to_an_admin_page(app, admin):
    from tests.web.admin_support import past_round_with_dead_letter

    with app.app_context():
        _, delivery = past_round_with_dead_letter(db.session.scalar(select(Programme)))
    response = admin.post(f"/admin/deliveries/{delivery}/resend", data={"back": "/admin/\r\nX: y"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/deliveries/dead"


@pytest.mark.parametrize(
    "query",
    [{"from": "0001-01-01"}, {"to": "0001-02-01"}, {"from": "0001-06-01", "to": "0001-07-01"}],
)
def test_an_insights_period_before_the_year_2_is_a_400(admin, query):
    """The page also reads the year before the period: once an OverflowError (a 500)."""
    for path in ("/admin/insights", "/admin/insights.csv"):
        response = admin.get(path, query_string=query)
        assert response.status_code == 400, (path, query)
        assert "starts in the year 2 or later" in response.get_data(as_text=True)
    assert admin.get("/admin/insights", query_string={"to": "9999-12-31"}).status_code == 200
