"""The Bot Framework connector calls the Teams bot makes while answering an activity.

Reading one member (``GET /v3/conversations/{id}/members/{userId}``: their email and UPN), a
team's roster page by page (``GET /v3/conversations/{teamId}/pagedmembers`` with ``pageSize``
and the ``continuationToken`` of the page before) and posting a card into a conversation
(``POST /v3/conversations/{id}/activities``). Every call carries the bot's own token from
Microsoft Entra (:class:`integrations.entra_token.AppToken`, as the 1:1 cards use), and goes to
the ``serviceUrl`` of the activity being answered, which the caller has checked against the
activity's verified token. Failures are :class:`DeliveryError` by the one HTTP policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests

from integrations.base import DeliveryError
from integrations.entra_token import AppToken
from integrations.teams import BOT_SCOPE, bot_call, default_authority

#: The connector's largest page (Microsoft: "pageSize … up to 500").
MAX_PAGE_SIZE = 500


class TeamsConnector:
    """The connector REST API with the bot's token; ``service_url`` is given per call."""

    def __init__(
        self,
        app_id: str,
        app_password: str,
        tenant_id: str,
        authority: str | None = None,
        *,
        session: requests.Session | None = None,
        timeout: float = 10,
    ):
        self.app_id = app_id
        self._session = session or requests.Session()
        self._timeout = timeout
        self._token = AppToken(
            "teams bot token",
            app_id,
            app_password,
            authority or default_authority(tenant_id),
            [BOT_SCOPE],
            session=self._session,
            timeout=timeout,
            settings="FIKA_TEAMS_BOT_TENANT_ID / FIKA_TEAMS_BOT_AUTHORITY",
            instance_discovery=False,
        )

    def __repr__(self) -> str:
        return f"TeamsConnector(app_id={self.app_id!r})"

    def _call(
        self,
        what: str,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return bot_call(
            self._session, what, method, url, self._token(), self._timeout, params=params, body=body
        )

    @staticmethod
    def _conversation_url(service_url: str, conversation_id: str) -> str:
        return f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}"

    def member(self, service_url: str, conversation_id: str, user_id: str) -> dict[str, Any]:
        """One member of a conversation (``email``, ``userPrincipalName``, ``name``…)."""
        url = f"{self._conversation_url(service_url, conversation_id)}/members/"
        return self._call("teams member", "GET", url + quote(user_id, safe=""))

    def paged_members(
        self, service_url: str, conversation_id: str, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Every member of a team or chat, one page at a time (streamed, not held in memory)."""
        url = f"{self._conversation_url(service_url, conversation_id)}/pagedmembers"
        token: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"pageSize": max(1, min(page_size, MAX_PAGE_SIZE))}
            if token:
                params["continuationToken"] = token
            page = self._call("teams paged members", "GET", url, params=params)
            members = page.get("members")
            if not isinstance(members, list):
                raise DeliveryError("teams paged members: no members in the answer", transient=True)
            yield from (m for m in members if isinstance(m, dict))
            token = page.get("continuationToken")
            if not token or not isinstance(token, str):
                return
            if token in seen:  # a service that hands back the same page forever
                raise DeliveryError("teams paged members: continuation loops", transient=True)
            seen.add(token)

    def send(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> None:
        """Post ``activity`` (a message with a card) into a conversation."""
        url = f"{self._conversation_url(service_url, conversation_id)}/activities"
        self._call("teams bot send", "POST", url, body=activity)
