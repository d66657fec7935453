"""Which chat channels run, decided from settings in one place (like redash's destinations).

Each integration is on when its settings are given and off when none are; half a configuration
is a :class:`ConfigError` naming the missing setting, raised at start-up rather than as a
failed delivery the night of the first round. Settings arrive as a mapping (``web/config.py``
reads the environment); empty strings count as unset.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from urllib.parse import urlsplit

from integrations.base import Channel, ConfigError, DeliveryError

# One reading of "set" and one wording for half-configured services, shared with the calendars.
from integrations.registry import Settings, _get, _require_all
from integrations.slack import DEFAULT_API_URL, SlackChannel, post_announcement
from integrations.slack_blocks import announcement_text
from integrations.teams import (
    DEFAULT_SERVICE_URL,
    TeamsBotChannel,
    TeamsWorkflowChannel,
    default_authority,
)
from integrations.teams_cards import announcement_card, workflows_envelope

SLACK_REQUIRED = ("FIKA_SLACK_BOT_TOKEN", "FIKA_SLACK_SIGNING_SECRET")
TEAMS_BOT_REQUIRED = (
    "FIKA_TEAMS_BOT_APP_ID",
    "FIKA_TEAMS_BOT_APP_PASSWORD",
    "FIKA_TEAMS_BOT_TENANT_ID",
)
TEAMS_BOT_OPTIONAL = ("FIKA_TEAMS_BOT_SERVICE_URL", "FIKA_TEAMS_BOT_AUTHORITY")


def _url(settings: Settings, name: str, default: str | None = None) -> str | None:
    """An http(s) URL setting, checked now so a typo is a start-up error, not a failed round."""
    value = _get(settings, name) or default
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: expected an http(s) URL")  # not echoed: it may be a secret
    return value


def chat_channels(
    settings: Settings,
    *,
    user_ids: MutableMapping[str, str] | None = None,
    conversation_ids: MutableMapping[str, str] | None = None,
) -> list[Channel]:
    """The chat channels the settings turn on: Slack, and Teams through a bot or a webhook.

    With ``FIKA_TEAMS_BOT_*`` settings people get 1:1 cards from the bot; without them, the
    Workflows webhook (``FIKA_TEAMS_WEBHOOK_URL``) gets one card per group. ``user_ids`` and
    ``conversation_ids`` are the caller's persistent caches (email -> Slack user id, email ->
    Teams 1:1 conversation id).
    """
    channels: list[Channel] = []
    slack = _require_all(settings, SLACK_REQUIRED, "Slack")
    if slack:
        api_url = _url(settings, "FIKA_SLACK_API_URL", DEFAULT_API_URL) or DEFAULT_API_URL
        channels.append(SlackChannel(slack["FIKA_SLACK_BOT_TOKEN"], api_url, user_ids))
    elif _get(settings, "FIKA_SLACK_API_URL"):
        raise ConfigError(
            "FIKA_SLACK_BOT_TOKEN: required for Slack (because FIKA_SLACK_API_URL is set)"
        )
    _url(settings, "FIKA_SLACK_WEBHOOK_URL")  # validated here; used by announce_round

    webhook = _url(settings, "FIKA_TEAMS_WEBHOOK_URL")
    bot = _require_all(settings, TEAMS_BOT_REQUIRED, "the Teams bot")
    if bot:
        tenant = bot["FIKA_TEAMS_BOT_TENANT_ID"]
        service_url = _url(settings, "FIKA_TEAMS_BOT_SERVICE_URL", DEFAULT_SERVICE_URL)
        channels.append(
            TeamsBotChannel(
                bot["FIKA_TEAMS_BOT_APP_ID"],
                bot["FIKA_TEAMS_BOT_APP_PASSWORD"],
                tenant,
                service_url or DEFAULT_SERVICE_URL,
                conversation_ids if conversation_ids is not None else {},
                authority=_url(settings, "FIKA_TEAMS_BOT_AUTHORITY", default_authority(tenant)),
            )
        )
    else:
        stray = [name for name in TEAMS_BOT_OPTIONAL if _get(settings, name)]
        if stray:
            raise ConfigError(
                f"{TEAMS_BOT_REQUIRED[0]}: required for the Teams bot "
                f"(because {', '.join(stray)} is set)"
            )
        if webhook:
            channels.append(TeamsWorkflowChannel(webhook))
    return channels


def announce_round(
    settings: Settings, *, people: int, departments: int, hybrid_share: float
) -> dict[str, DeliveryError | None]:
    """Post the after-round announcement to every configured chat webhook; never raises for one.

    Returns the outcome per target ("slack", "teams"), so the caller can log each and one broken
    webhook never silences the other.
    """
    return post_to_webhooks(
        settings,
        announcement_text(people, departments, hybrid_share),
        announcement_card(people, departments, hybrid_share),
    )


def post_to_webhooks(settings: Settings, text: str, card: dict) -> dict[str, DeliveryError | None]:
    """Post ``text`` to the Slack incoming webhook and ``card`` to the Teams Workflows webhook.

    Only the configured ones; the outcome per target ("slack", "teams"), never raising, so one
    broken webhook never silences the other.
    """
    outcomes: dict[str, DeliveryError | None] = {}
    slack_url = _url(settings, "FIKA_SLACK_WEBHOOK_URL")
    if slack_url:
        try:
            post_announcement(slack_url, text)
            outcomes["slack"] = None
        except DeliveryError as err:
            outcomes["slack"] = err
    teams_url = _url(settings, "FIKA_TEAMS_WEBHOOK_URL")
    if teams_url:
        teams = TeamsWorkflowChannel(teams_url)
        try:
            teams.post(workflows_envelope(card))
            outcomes["teams"] = None
        except DeliveryError as err:
            outcomes["teams"] = err
        finally:
            teams.close()
    return outcomes
