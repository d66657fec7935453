"""App-only tokens from Microsoft Entra (msal, client credentials) for Graph and the Teams bot.

Both channels need the same thing and used to fail in two different ways. msal hides the HTTP
answers of Entra: it returns the OAuth 2.0 error fields for a 4xx, raises its own exception (not
part of its public API) for a 5xx, and a ValueError for an answer that is not JSON or a tenant
it cannot discover. So msal gets an ``http_client`` that keeps the last answer it saw and gives
every request a timeout (msal applies its ``timeout`` only to a session of its own), and any
failure is judged by that answer with the one HTTP policy of :mod:`integrations.http_failures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msal
import requests

from integrations.base import DeliveryError
from integrations.http_failures import (
    http_failure,
    network_failure,
    response_failure,
    safe_code,
)

# RFC 6749 §5.2: the request, the client or the grant is wrong; a person has to fix the settings.
PERMANENT_OAUTH_ERRORS = frozenset(
    {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
     "unsupported_grant_type", "invalid_scope"}
)  # fmt: skip
# RFC 6749 §4.1.2.1, and what Entra answers when it is overloaded.
TRANSIENT_OAUTH_ERRORS = frozenset({"temporarily_unavailable", "server_error"})


class _AnswerKeeper:
    """A requests session as msal's ``http_client``: remembers the last answer, sets a timeout."""

    def __init__(self, session: requests.Session, timeout: float):
        self.session = session
        self.timeout = timeout
        self.last: requests.Response | None = None

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        self.last = self.session.post(url, **kwargs)
        return self.last

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        self.last = self.session.get(url, **kwargs)
        return self.last

    def close(self) -> None:
        """Left to the channel that owns the session."""

    def failed(self) -> requests.Response | None:
        """The last answer, if it was an error (msal may replay a throttled one from its cache)."""
        return self.last if self.last is not None and self.last.status_code >= 400 else None


class AppToken:
    """Calling it returns a bearer token (msal caches it until shortly before it expires) or
    raises a :class:`DeliveryError` named ``what`` ("Microsoft Graph token").

    ``settings`` names the settings an admin would fix when the authority is unusable;
    ``options`` go to ``msal.ConfidentialClientApplication`` as they are.
    """

    def __init__(
        self,
        what: str,
        client_id: str,
        client_secret: str,
        authority: str,
        scopes: Sequence[str],
        *,
        session: requests.Session,
        timeout: float,
        settings: str,
        **options: Any,
    ):
        self.what = what
        self.scopes = list(scopes)
        self.settings = settings
        self._http = _AnswerKeeper(session, timeout)
        self._client_id = client_id
        self._options = dict(client_credential=client_secret, authority=authority, **options)
        self._app: msal.ConfidentialClientApplication | None = None

    def __call__(self) -> str:
        try:
            if self._app is None:
                # Built lazily: msal discovers the tenant on construction, which must not happen
                # at start-up validation or while Entra is down.
                self._app = msal.ConfidentialClientApplication(
                    self._client_id, http_client=self._http, **self._options
                )
            result = self._app.acquire_token_for_client(scopes=self.scopes)
        except requests.HTTPError as error:
            if error.response is not None:
                raise response_failure(self.what, error.response) from None
            raise network_failure(self.what, error) from None
        except requests.RequestException as error:
            raise network_failure(self.what, error) from None
        except Exception as error:  # noqa: BLE001 - msal's own errors are not public; see above
            answer = self._http.failed()
            if answer is not None:
                failure = response_failure(self.what, answer)
                if not failure.transient and isinstance(error, ValueError):
                    # msal could not discover the tenant: most likely a wrong tenant or authority
                    failure = response_failure(self.what, answer, note=f"check {self.settings}")
                raise failure from None
            if isinstance(error, ValueError):  # msal refused the authority before any answer
                raise DeliveryError(
                    f"{self.what}: {self.settings} unusable ({type(error).__name__})",
                    transient=False,
                ) from None
            raise DeliveryError(
                f"{self.what}: token request failed ({type(error).__name__})", transient=True
            ) from None
        if "access_token" in result:
            return result["access_token"]
        raise self._refused(result)

    def _refused(self, result: Mapping[str, Any]) -> DeliveryError:
        """Entra's OAuth error, by its code first (RFC 6749), then by the answer's status."""
        code = safe_code(result.get("error")) or "unknown_error"
        numbers = [n for n in result.get("error_codes") or () if isinstance(n, int)]
        note = f"AADSTS{numbers[0]}" if numbers else ""  # what Entra's docs are searched by
        transient: bool | None = None
        if code in TRANSIENT_OAUTH_ERRORS:
            transient = True
        elif code in PERMANENT_OAUTH_ERRORS:
            transient = False
        answer = self._http.failed()
        if answer is None:
            return DeliveryError(
                f"{self.what}: {code}" + (f": {note}" if note else ""), transient=bool(transient)
            )
        return http_failure(
            self.what,
            answer.status_code,
            answer.headers,
            code=code,
            transient=transient,
            note=note,
        )
