"""Microsoft Teams: a card per group through a Workflows webhook, or 1:1 cards through a bot.

Office 365 connector webhooks are retired, so group cards go to a Workflows webhook ("When a
Teams webhook request is received"). Its URL carries the signature that authorises posting, so
it is a secret: it never appears in a log line or a failure reason.

Where a bot is registered, each member gets the card in their own 1:1 chat instead, through the
Bot Framework connector REST API with a token from Microsoft Entra (msal, client credentials).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from integrations.base import Attendee, DeliveryError, Message
from integrations.entra_token import AppToken
from integrations.http_failures import network_failure, response_failure
from integrations.invite_text import in_reader_language
from integrations.teams_cards import CARD_CONTENT_TYPE, group_card, workflows_envelope

log = logging.getLogger(__name__)

BOT_SCOPE = "https://api.botframework.com/.default"
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"


def default_authority(tenant_id: str) -> str:
    """Single-tenant bots get tokens from their own tenant (the default for new Azure bots)."""
    return f"https://login.microsoftonline.com/{tenant_id}"


def bot_call(
    session: requests.Session,
    what: str,
    method: str,
    url: str,
    token: str,
    timeout: float,
    *,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Bot Framework REST call with the bot's token: its JSON object, or {} for no object.

    A refused answer or a network failure becomes a ``DeliveryError`` named by ``what``.
    """
    try:
        response = session.request(
            method,
            url,
            params=params,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise network_failure(what, exc) from None
    with response:
        if not response.ok:
            raise response_failure(what, response)
        try:
            answer = response.json()
        except ValueError:
            return {}
    return answer if isinstance(answer, dict) else {}


class TeamsWorkflowChannel:
    """Posts one Adaptive Card per group, or a notice's card, to a Teams Workflows webhook.

    The same webhook serves two channels: ``teams`` (a card per group, when no bot is set up)
    and ``teams_webhook`` (the notices: the round's announcement, room nudges).
    """

    def __init__(
        self,
        webhook_url: str,
        *,
        name: str = "teams",
        session: requests.Session | None = None,
        timeout: float = 30,
    ):
        self.name = name
        self._url = webhook_url
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._timeout = timeout

    def __repr__(self) -> str:  # the default would be harmless, but make sure the URL never shows
        return "TeamsWorkflowChannel(webhook_url=<secret>)"

    def close(self) -> None:
        """Release pooled connections (only those of a session this channel created)."""
        if self._owns_session:
            self._session.close()

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """One card per message, in order; a failure is recorded, never raised."""
        outcomes: list[DeliveryError | None] = []
        for message in messages:
            try:
                if message.notice is not None:
                    card = message.notice.card
                else:
                    with in_reader_language(message):  # the programme's language
                        card = group_card(message.invite, message.links)
                self.post(workflows_envelope(card))
                outcomes.append(None)
            except DeliveryError as err:
                log.warning("teams workflow: message %s not delivered: %s", message.key, err)
                outcomes.append(err)
        return outcomes

    def post(self, envelope: dict[str, Any]) -> None:
        """POST an envelope (a group card or the announcement); raise DeliveryError if refused."""
        try:
            response = self._session.post(self._url, json=envelope, timeout=self._timeout)
        except requests.RequestException as exc:
            # The reason keeps only the kind of trouble: requests quotes the URL, here the secret.
            raise network_failure("teams webhook", exc) from None
        with response:
            if not response.ok:  # Workflows answers 202 Accepted
                raise response_failure("teams webhook", response)


class TeamsBotChannel:
    """Proactive 1:1 messages per member through the Bot Framework connector.

    ``conversation_ids`` maps lower-cased email to the 1:1 conversation id the bot got when the
    app was installed for that person. ``member_ids`` (optional) maps email to the person's Teams
    user id (``29:…``) so a missing 1:1 conversation can be created (``POST /v3/conversations``)
    and remembered in ``conversation_ids``. Members with neither are reported in
    ``unreachable[message.key]`` so the caller can fall back to email.
    """

    name = "teams"

    def __init__(
        self,
        app_id: str,
        app_password: str,
        tenant_id: str,
        service_url: str,
        conversation_ids: MutableMapping[str, str],
        authority: str | None = None,
        *,
        member_ids: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        timeout: float = 30,
    ):
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.service_url = service_url.rstrip("/")
        self.authority = authority or default_authority(tenant_id)
        self.conversation_ids = conversation_ids
        self.member_ids = member_ids or {}
        self.unreachable: dict[str, list[str]] = {}
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._timeout = timeout
        self._token = AppToken(
            "teams bot token",
            app_id,
            app_password,
            self.authority,
            [BOT_SCOPE],
            session=self._session,
            timeout=timeout,
            settings="FIKA_TEAMS_BOT_TENANT_ID / FIKA_TEAMS_BOT_AUTHORITY",
            instance_discovery=False,  # the authority is a setting we trust as given
        )
        self._delivered: set[tuple[str, str]] = set()  # (message key, email) already sent

    def __repr__(self) -> str:
        return f"TeamsBotChannel(app_id={self.app_id!r}, tenant_id={self.tenant_id!r})"

    def close(self) -> None:
        """Release pooled connections (only those of a session this channel created)."""
        if self._owns_session:
            self._session.close()

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Deliver each message to its recipient, or to every member for a group message.

        After a transient failure part way through a group, the members already reached are
        remembered, so the retry does not message them twice.
        """
        self.unreachable = {}
        outcomes: list[DeliveryError | None] = []
        for message in messages:
            try:
                self._deliver(message)
                outcomes.append(None)
            except DeliveryError as err:
                log.warning("teams bot: message %s not delivered: %s", message.key, err)
                outcomes.append(err)
        return outcomes

    def _deliver(self, message: Message) -> None:
        """Post the group's card to each member's 1:1 chat, or a channel notice (a learning
        team's digest: ``notice.chat_channel`` is a team, whose General channel has its id)."""
        notice = message.notice
        if notice is not None and notice.chat_channel:
            self._post_activity(
                notice.chat_channel,
                {
                    "type": "message",
                    "summary": notice.subject or notice.text[:200],
                    "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": notice.card}],
                },
            )
            return
        members = message.recipients
        with in_reader_language(message):
            card = group_card(message.invite, message.links)
        activity = {
            "type": "message",
            "summary": card["fallbackText"],
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
        }
        missing: list[str] = []
        first_error: DeliveryError | None = None
        reached = 0
        for member in members:
            done = (message.key, member.email.strip().lower())
            if done in self._delivered:
                reached += 1
                continue
            try:
                conversation = self._conversation(member)
                if conversation is None:
                    missing.append(member.email)
                    continue
                self._post_activity(conversation, activity)
            except DeliveryError as err:
                if err.transient:
                    raise  # the retry skips the members already in self._delivered
                first_error = first_error or err
                missing.append(member.email)  # e.g. blocked the bot: email still reaches them
                continue
            self._delivered.add(done)
            reached += 1
        self._delivered -= {(message.key, m.email.strip().lower()) for m in members}
        if missing:
            self.unreachable[message.key] = missing
        if reached == 0:
            raise first_error or DeliveryError(
                "teams bot: no member has a Teams chat with the bot", transient=False
            )

    def _request(self, what: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return bot_call(
            self._session,
            what,
            "POST",
            self.service_url + path,
            self._token(),
            self._timeout,
            body=body,
        )

    def _conversation(self, member: Attendee) -> str | None:
        """The member's 1:1 conversation id, created and remembered when only their id is known."""
        key = member.email.strip().lower()
        conversation = self.conversation_ids.get(key)
        if conversation:
            return conversation
        user_id = self.member_ids.get(key)
        if not user_id:
            return None
        created = self._request(
            "teams bot create conversation",
            "/v3/conversations",
            {
                "isGroup": False,
                "bot": {"id": f"28:{self.app_id}"},
                "members": [{"id": user_id}],
                "tenantId": self.tenant_id,
                "channelData": {"tenant": {"id": self.tenant_id}},
            },
        )
        conversation = created.get("id")
        if not conversation:
            raise DeliveryError("teams bot create conversation: no id returned", transient=True)
        self.conversation_ids[key] = conversation
        return conversation

    def _post_activity(self, conversation: str, activity: dict[str, Any]) -> None:
        path = f"/v3/conversations/{quote(conversation, safe='')}/activities"
        self._request("teams bot send", path, activity)
