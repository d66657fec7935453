"""Single sign-on through OpenID Connect against a local provider (pytest-httpserver).

The provider is a contract fake of the documented endpoints (discovery, token, userinfo, JWKS):
it checks the token request the way a real provider does (code, redirect_uri, client secret)
and signs the id_token with the nonce the authorisation request carried.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug import Response

from core.db import db
from core.settings import SettingsError
from tests.core.helpers import add_person

CLIENT_ID, SECRET = "fika-client", "s3cret-value"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})


class Provider:
    """The OIDC endpoints on ``httpserver``, with the userinfo a test wants to hand out."""

    def __init__(self, httpserver, userinfo: dict):
        self.server = httpserver
        self.issuer = httpserver.url_for("").rstrip("/")
        self.userinfo = userinfo
        self.nonce: str | None = None
        self.token_requests: list[dict] = []
        httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )
        httpserver.expect_request("/jwks").respond_with_json({"keys": [KEY.as_dict(private=False)]})
        httpserver.expect_request("/token", method="POST").respond_with_handler(self.token)
        httpserver.expect_request("/userinfo").respond_with_handler(self.user)

    def token(self, request):
        form = request.form.to_dict()
        self.token_requests.append(form)
        basic = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
        if basic != f"{CLIENT_ID}:{SECRET}" or form.get("code") != "good-code":
            return Response('{"error": "invalid_grant"}', 400, content_type="application/json")
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "u-1", "aud": CLIENT_ID, "iat": now,
                  "exp": now + 300, "nonce": self.nonce}  # fmt: skip
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, KEY)
        body = {"access_token": "at-1", "token_type": "Bearer", "expires_in": 300,
                "id_token": id_token}  # fmt: skip
        return Response(json.dumps(body), 200, content_type="application/json")

    def user(self, request):
        if request.headers.get("Authorization") != "Bearer at-1":
            return Response("{}", 401, content_type="application/json")
        return Response(json.dumps(self.userinfo), 200, content_type="application/json")


@pytest.fixture
def provider(httpserver):
    return Provider(httpserver, {"sub": "u-1", "email": "Ana.Berg@example.org",
                                 "email_verified": True})  # fmt: skip


@pytest.fixture
def sso_app(make_app, provider):
    app = make_app(
        FIKA_OIDC_ISSUER=provider.issuer,
        FIKA_OIDC_CLIENT_ID=CLIENT_ID,
        FIKA_OIDC_CLIENT_SECRET=SECRET,
    )
    with app.app_context():
        db.create_all()
        add_person("ana.berg@example.org", "Research")
    return app


def start(client, provider, next_url: str | None = None) -> dict:
    """Follow the app to the provider's authorisation URL; return its query."""
    response = client.get("/me/sso" + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == CLIENT_ID and "openid" in query["scope"].split()
    assert query["redirect_uri"] == "https://fika.example.org/me/sso/callback"
    provider.nonce = query["nonce"]
    return query


def test_sign_in_with_the_userinfo_email(sso_app, provider):
    client = sso_app.test_client()
    assert "organisation's account" in client.get("/me/sign-in").get_data(as_text=True)
    query = start(client, provider, next_url="/me/preferences")
    back = client.get(f"/me/sso/callback?code=good-code&state={query['state']}")
    assert back.status_code == 302 and back.headers["Location"] == "/me/preferences"
    assert provider.token_requests[0]["redirect_uri"] == query["redirect_uri"]
    assert client.get("/me").status_code == 200


def test_wrong_state_or_code_does_not_sign_in(sso_app, provider):
    client = sso_app.test_client()
    query = start(client, provider)
    assert client.get("/me/sso/callback?code=good-code&state=forged").status_code == 400
    assert client.get(f"/me/sso/callback?code=bad&state={query['state']}").status_code == 400
    assert client.get("/me/sso/callback?error=access_denied").status_code == 400
    assert client.get("/me").status_code == 302


@pytest.mark.parametrize(
    ("userinfo", "message"),
    [
        ({"sub": "u-1", "email": "zed@example.org", "email_verified": True}, "has joined"),
        ({"sub": "u-1", "email": "ana.berg@example.org", "email_verified": False}, "verified"),
        ({"sub": "u-1"}, "verified email"),
    ],
)
def test_unknown_or_unverified_email_is_refused(sso_app, provider, userinfo, message):
    provider.userinfo = userinfo
    client = sso_app.test_client()
    query = start(client, provider)
    response = client.get(f"/me/sso/callback?code=good-code&state={query['state']}")
    assert response.status_code == 403 and message in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_without_settings_there_is_no_single_sign_on(client):
    assert client.get("/me/sso").status_code == 404
    assert "organisation" not in client.get("/me/sign-in").get_data(as_text=True).split("<form")[1]


def test_half_configured_single_sign_on_refuses_to_start(make_app):
    with pytest.raises(SettingsError, match="FIKA_OIDC_CLIENT_SECRET"):
        make_app(FIKA_OIDC_ISSUER="https://idp.example.org", FIKA_OIDC_CLIENT_ID="x")
