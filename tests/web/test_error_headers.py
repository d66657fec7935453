"""Error pages and JSON errors keep the headers of the exception behind them: ``Allow`` on 405."""

from __future__ import annotations


def test_a_405_on_a_page_says_which_methods_are_allowed(client):
    response = client.put("/")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert "Method Not Allowed" in response.get_data(as_text=True)


def test_a_405_in_the_api_says_which_methods_are_allowed_in_json(api):
    client, headers = api
    response = client.patch("/api/v1/people", json={}, headers=headers)
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert response.json["status"] == 405
    response = client.post("/api/v1/people/ada@example.org", headers=headers)
    assert set(response.headers["Allow"].split(", ")) == {"DELETE", "GET", "HEAD", "OPTIONS",
                                                          "PUT"}  # fmt: skip


def test_an_error_page_keeps_the_security_headers_and_its_own_type(client):
    response = client.delete("/me")
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
