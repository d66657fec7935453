"""Rate limits on sign-in and the opt-in form, in memory and on the real local Redis."""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

from core.db import db
from core.settings import SettingsError
from tests.core.helpers import add_person

REDIS = "redis://127.0.0.1:6379"
JOIN = {"name": "Ana Berg", "email": "ana@example.org", "department": "Research",
        "office": "Stockholm", "timezone": "Europe/Stockholm"}  # fmt: skip


def test_sign_in_is_limited_per_client(make_app):
    app = make_app(FIKA_RATELIMIT_SIGNIN="3 per minute")
    client = app.test_client()
    with app.app_context():
        db.create_all()
    codes = [
        client.post("/me/sign-in", data={"email": f"p{i}@example.org"}).status_code
        for i in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    page = client.post("/me/sign-in", data={"email": "x@example.org"})
    assert "Too Many Requests" in page.get_data(as_text=True) and "Retry-After" in page.headers
    assert client.get("/me/sign-in").status_code == 200  # only the POST is limited


def retry_until_allowed(client) -> tuple[int, int]:
    """POST the form until a 429; wait its Retry-After; return (that wait, the next status)."""
    while (page := client.post("/", data=JOIN)).status_code != 429:
        assert page.status_code == 200
    wait = int(page.headers["Retry-After"])
    assert not any(name.startswith("X-RateLimit") for name in page.headers.keys())
    time.sleep(wait)
    return wait, client.post("/", data=JOIN).status_code


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_retry_after_says_when_the_form_takes_posts_again(make_app, storage, request):
    settings = {"FIKA_RATELIMIT_FORM": "2 per 2 seconds"}
    if storage == "redis":
        request.getfixturevalue("redis_client")
        settings |= {"FIKA_RATELIMIT_STORAGE_URI": REDIS,
                     "RATELIMIT_KEY_PREFIX": f"fika-test-{uuid.uuid4().hex[:8]}"}  # fmt: skip
    app = make_app(**settings)
    with app.app_context():
        db.create_all()
    wait, status = retry_until_allowed(app.test_client())
    assert 1 <= wait <= 3 and status == 200  # the 2 s window, rounded up to whole seconds
    assert "X-RateLimit-Limit" not in app.test_client().post("/", data=JOIN).headers


def test_sign_in_is_limited_per_address(make_app):
    app = make_app(FIKA_RATELIMIT_SIGNIN="100 per minute")
    with app.app_context():
        db.create_all()
        add_person("ana@example.org", "Research")
    client = app.test_client()
    codes = [client.post("/me/sign-in", data={"email": "ANA@example.org"}).status_code
             for _ in range(6)]  # fmt: skip
    assert codes == [200] * 5 + [429]
    assert client.post("/me/sign-in", data={"email": "ben@example.org"}).status_code == 200


def test_the_form_is_limited(make_app):
    app = make_app(FIKA_RATELIMIT_FORM="2 per minute")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    codes = [client.post("/", data=JOIN).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/").status_code == 200


def test_only_the_limited_posts_are_limited_requests(make_app, monkeypatch):
    """Working out a request's limits cost a fifth of the form's GET: every request that no
    limit applies to has an empty identity, so the limiter returns at once."""
    app = make_app(FIKA_RATELIMIT_FORM="2 per minute")
    with app.app_context():
        db.create_all()
    limiter = app.extensions["fika_limiter"]
    seen = []
    identify = limiter.identify_request
    monkeypatch.setattr(limiter, "identify_request", lambda: seen.append(identify()) or seen[-1])
    client = app.test_client()
    for path in ("/", "/me/sign-in", "/unknown", "/static/fika.css"):
        client.get(path).close()
    client.head("/")
    client.post("/me/sign-out")
    assert seen and set(seen) == {""}
    seen.clear()
    assert client.post("/", data=JOIN).status_code == 200
    assert set(seen) == {"optin.join"}
    seen.clear()
    assert client.post("/me/sign-in", data={"email": "a@b.org"}).status_code == 200
    assert set(seen) == {"account.sign_in"}


def test_a_store_that_is_down_falls_back_to_counting_in_memory(make_app, caplog):
    """Redis unreachable: the form still answers, and its limit still holds (per process)."""
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = make_app(FIKA_RATELIMIT_FORM="2 per minute",
                   FIKA_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed}")  # fmt: skip
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert [client.post("/", data=JOIN).status_code for _ in range(3)] == [200, 200, 429]
    assert "storage unreachable" in caplog.text


def test_apps_do_not_share_counters(make_app):
    first = make_app(FIKA_RATELIMIT_SIGNIN="1 per minute")
    second = make_app(FIKA_RATELIMIT_SIGNIN="1 per minute")
    for app in (first, second):
        with app.app_context():
            db.create_all()
        assert app.test_client().post("/me/sign-in", data={"email": "a@b.org"}).status_code == 200


def forwarded(client, chain: str) -> int:
    """POST the form as it arrives through a proxy that says the client is ``chain``."""
    return client.post("/", data=JOIN, headers={"X-Forwarded-For": chain}).status_code


def test_behind_a_trusted_proxy_the_form_is_limited_per_forwarded_address(make_app):
    app = make_app(FIKA_RATELIMIT_FORM="2 per minute", FIKA_PROXY_FIX=1)
    with app.app_context():
        db.create_all()
    client = app.test_client()  # every request comes from the proxy at 127.0.0.1
    assert [forwarded(client, "203.0.113.5") for _ in range(3)] == [200, 200, 429]
    assert forwarded(client, "203.0.113.6") == 200  # another client behind the same proxy
    # Only the entry our proxy appended counts: what the client put before it is ignored.
    assert forwarded(client, "198.51.100.1, 203.0.113.5") == 429
    assert forwarded(client, "203.0.113.5, 203.0.113.6") == 200


def test_without_proxy_fix_x_forwarded_for_is_ignored(make_app):
    app = make_app(FIKA_RATELIMIT_FORM="2 per minute")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    codes = [forwarded(client, f"203.0.113.{i}") for i in range(3)]
    assert codes == [200, 200, 429]  # one client (127.0.0.1), whatever the header says


@pytest.mark.parametrize("bad", ["lots", "5 per fortnight"])
def test_unreadable_limit_refuses_to_start(make_app, bad):
    with pytest.raises(SettingsError, match="FIKA_RATELIMIT_SIGNIN"):
        make_app(FIKA_RATELIMIT_SIGNIN=bad)


@pytest.fixture
def redis_client():
    """The local Redis (in CI it must be there; elsewhere the test is skipped without it)."""
    import redis

    client = redis.Redis.from_url(REDIS, socket_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        client.close()
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS} is required in CI: {error}")
        pytest.skip(f"Redis not reachable at {REDIS}")
    yield client
    client.close()


def test_limits_are_counted_in_redis_across_apps(make_app, redis_client):
    """Two apps on one Redis are like two gunicorn workers: they share the count."""
    prefix = f"fika-test-{uuid.uuid4().hex[:8]}"
    settings = dict(
        FIKA_RATELIMIT_STORAGE_URI=REDIS, FIKA_RATELIMIT_SIGNIN="3 per minute",
        RATELIMIT_KEY_PREFIX=prefix,
    )  # fmt: skip
    worker_a, worker_b = make_app(**settings), make_app(**settings)
    with worker_a.app_context():
        db.create_all()
    try:
        a, b = worker_a.test_client(), worker_b.test_client()
        codes = [c.post("/me/sign-in", data={"email": "a@b.org"}).status_code
                 for c in (a, b, a, b)]  # fmt: skip
        assert codes == [200, 200, 200, 429]
        keys = redis_client.keys(f"*{prefix}*")
        assert keys, "no rate-limit counters in Redis"
    finally:
        for key in redis_client.scan_iter(f"*{prefix}*"):
            redis_client.delete(key)
        # the limiter's Redis connection pools belong to the apps; let them close
        time.sleep(0)
