"""Which channels this deployment delivers through (``integrations.catalogue``), and their memory.

The channels get their settings and their memory passed in: ids that Slack, Teams or Graph gave
us live in the ``external_id`` table behind a plain mapping (:class:`RememberedIds`), so the
integrations never see the database.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from sqlalchemy import delete, select

from core.db import db
from core.models import ExternalId
from core.settings import Settings
from integrations import catalogue
from integrations.base import Channel


class RememberedIds(MutableMapping[str, str]):
    """A mapping persisted in ``external_id`` under one namespace (written with the session)."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def _row(self, key: str) -> ExternalId | None:
        return db.session.scalar(
            select(ExternalId).where(ExternalId.namespace == self.namespace, ExternalId.key == key)
        )

    def __getitem__(self, key: str) -> str:
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        return row.value

    def __setitem__(self, key: str, value: str) -> None:
        row = self._row(key)
        if row is None:
            db.session.add(ExternalId(namespace=self.namespace, key=key, value=value))
        else:
            row.value = value
        db.session.flush()

    def __delitem__(self, key: str) -> None:
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        db.session.delete(row)
        db.session.flush()

    def __iter__(self) -> Iterator[str]:
        return iter(
            db.session.scalars(
                select(ExternalId.key).where(ExternalId.namespace == self.namespace)
            ).all()
        )

    def __len__(self) -> int:
        return len(list(iter(self)))

    def key_for(self, value: str) -> str | None:
        """The key remembered for ``value`` (e.g. the email of a Slack user id)."""
        return db.session.scalar(
            select(ExternalId.key).where(
                ExternalId.namespace == self.namespace, ExternalId.value == value
            )
        )


def forget_person(email: str) -> None:
    """Erase the chat ids remembered for a person's email (part of "delete me")."""
    db.session.execute(
        delete(ExternalId).where(
            ExternalId.namespace.in_(("slack_user", "teams_conversation")),
            ExternalId.key == email,
        )
    )


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """Every channel the settings turn on, built, by name (the dispatcher's, once per worker).

    Raises ConfigError naming a bad setting.
    """
    return catalogue.build(settings.channel_settings, RememberedIds)


def enabled_channels(settings: Settings) -> list[catalogue.Entry]:
    """The catalogue entries of the channels the settings turn on; builds none of them."""
    return catalogue.enabled(settings.channel_settings)
