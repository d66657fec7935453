"""The Bot Framework's JWT validation against a local fake of its OpenID metadata and keys."""

from __future__ import annotations

import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.bot_framework_auth import BotAuthError, BotFrameworkAuth, KeysUnavailable
from tests.fakes_chat import FakeBotFramework

APP_ID = "11111111-2222-3333-4444-555555555555"
OTHER_APP = "99999999-2222-3333-4444-555555555555"


@pytest.fixture
def fake(https_server):
    bot = FakeBotFramework(https_server, APP_ID, "secret", "tenant-1")
    yield bot
    bot.check()


@pytest.fixture
def session(tls_files):
    with requests.Session() as s:
        s.trust_env = False  # trust only the test certificate, no proxy settings
        s.verify = str(tls_files.certfile)
        yield s


@pytest.fixture
def auth(fake, session):
    return BotFrameworkAuth(APP_ID, fake.openid_url, session=session)


def activity(fake, **changes):
    return {"type": "message", "channelId": "msteams", "serviceUrl": fake.service_url, **changes}


def test_a_token_signed_by_the_published_key_is_accepted(fake, auth):
    claims = auth.verify(f"Bearer {fake.token()}", activity(fake))
    assert claims["aud"] == APP_ID
    assert claims["iss"] == "https://api.botframework.com"


def test_keys_are_fetched_once_and_kept(fake, auth):
    for _ in range(3):
        auth.verify(f"Bearer {fake.token()}", activity(fake))
    assert fake.key_fetches == 1


def test_keys_are_fetched_again_after_their_ttl(fake, session):
    now = [1_000_000.0]
    auth = BotFrameworkAuth(APP_ID, fake.openid_url, session=session, ttl=60, clock=lambda: now[0])
    auth.verify(f"Bearer {fake.token()}", activity(fake))
    now[0] += 61
    auth.verify(f"Bearer {fake.token()}", activity(fake))
    assert fake.key_fetches == 2


def test_a_rotated_key_is_picked_up_once_the_refresh_gap_has_passed(fake, session):
    now = [1_000_000.0]
    auth = BotFrameworkAuth(
        APP_ID, fake.openid_url, session=session, refresh_gap=300, clock=lambda: now[0]
    )
    auth.verify(f"Bearer {fake.token()}", activity(fake))
    fake.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.kid = "fika-test-key-2"
    with pytest.raises(BotAuthError, match="unknown key"):  # too soon: no refetch storm
        auth.verify(f"Bearer {fake.token()}", activity(fake))
    now[0] += 301
    auth.verify(f"Bearer {fake.token()}", activity(fake))
    assert fake.key_fetches == 2


def forged(fake):
    """Same kid and claims, signed by a key that is not the Bot Framework's."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return fake.token(key=other)


def tampered(fake):
    """A genuine token whose claims were swapped for another's (a longer expiry)."""
    header, _, signature = fake.token().split(".")
    claims = fake.token(exp=int(time.time()) + 86400).split(".")[1]
    return f"{header}.{claims}.{signature}"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (forged, "bad signature"),
        (lambda f: f.token(iss="https://sts.windows.net/evil/"), "not issued by"),
        (lambda f: f.token(aud=OTHER_APP), "another bot"),
        (lambda f: f.token(exp=int(time.time()) - 301, nbf=int(time.time()) - 4000), "expired"),
        (lambda f: f.token(nbf=int(time.time()) + 400), "not valid yet"),
        (lambda f: f.token(exp=None), "invalid token"),
        (lambda f: f.token(kid="someone-elses-key"), "unknown key"),
        (lambda f: f.token(serviceurl="https://evil.example.org/"), "another service URL"),
        (tampered, "bad signature"),
        (lambda f: "not-a-jwt", "malformed"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(fake, auth, make, reason):
    with pytest.raises(BotAuthError, match=reason):
        auth.verify(f"Bearer {make(fake)}", activity(fake))


def test_an_hs256_token_is_refused_before_any_key_is_used(fake, auth):
    import jwt

    token = jwt.encode(
        {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": int(time.time()) + 60},
        "a-shared-secret-of-32-bytes-or-more!!",
        algorithm="HS256",
        headers={"kid": fake.kid},
    )
    with pytest.raises(BotAuthError, match="RS256"):
        auth.verify(f"Bearer {token}", activity(fake))


def test_five_minutes_of_clock_skew_are_allowed(fake, auth):
    now = int(time.time())
    auth.verify(f"Bearer {fake.token(exp=now - 200, nbf=now - 4000)}", activity(fake))
    auth.verify(f"Bearer {fake.token(nbf=now + 200)}", activity(fake))


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_a_missing_token_is_refused(fake, auth, header):
    with pytest.raises(BotAuthError, match="missing bearer token"):
        auth.verify(header, activity(fake))


def test_the_key_must_be_endorsed_for_the_activitys_channel(fake, auth):
    fake.endorsements = ["skype"]
    with pytest.raises(BotAuthError, match="not endorsed"):
        auth.verify(f"Bearer {fake.token()}", activity(fake))


def test_unreachable_metadata_is_keys_unavailable_not_a_refusal(fake, session):
    auth = BotFrameworkAuth(APP_ID, "https://127.0.0.1:9/metadata", session=session, timeout=1)
    with pytest.raises(KeysUnavailable):
        auth.verify(f"Bearer {fake.token()}", activity(fake))
