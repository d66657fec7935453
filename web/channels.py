"""Which channels this deployment delivers through, built from settings by the integrations."""

from __future__ import annotations

from collections.abc import Mapping

from integrations.base import Channel

#: Channels that take one message per group (an event, a group chat) rather than one per person.
PER_GROUP = frozenset({"caldav", "slack", "teams", "graph", "google"})


def configured_channels(config: Mapping) -> dict[str, Channel]:
    """Every channel the settings ask for, by name. Raises ConfigError naming a bad setting."""
    from integrations.chat_registry import chat_channels
    from integrations.registry import calendar_channels

    channels: list[Channel] = list(
        calendar_channels(config, default_outbox_dir=config["FIKA_DEFAULT_OUTBOX_DIR"])
    )
    channels.extend(chat_channels(config))
    return {c.name: c for c in channels}
