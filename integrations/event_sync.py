"""Shared rules for channels that keep one event per group at a provider (CalDAV, Graph, Google).

Email sends one message per person, but a calendar store holds one event per group: when the
dispatcher hands such a channel a message per member, the event must be written once. This module
folds a batch into one change per UID and gives each group's outcome to all its members. HTTP
answers and network trouble become outcomes by the policy every HTTP channel shares
(:mod:`integrations.http_failures`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Literal

import requests

from core.i18n import using
from integrations.base import DeliveryError, Invite, Message
from integrations.http_failures import network_failure

Action = Literal["upsert", "cancel", "none"]


@dataclass(frozen=True)
class EventChange:
    """What to do to one group's event, and which messages of the batch it answers for."""

    uid: str
    action: Action
    invite: Invite
    indices: tuple[int, ...]
    # The event's words are in the programme's language (every message of a group carries it).
    language: str | None = None


def event_changes(messages: Sequence[Message]) -> list[EventChange]:
    """Fold a batch into one change per UID, keeping the newest version (highest SEQUENCE).

    At that version a REQUEST wins: it carries the members who still meet, so writing it both
    updates the event and drops the people whose CANCEL (scope "attendees") came with it. A CANCEL
    removes the whole event only when its scope is "event"; a lone per-attendee CANCEL changes
    nothing in the store because the REQUEST to the remaining members carries the change.
    """
    by_uid: dict[str, list[int]] = {}
    for index, message in enumerate(messages):
        by_uid.setdefault(message.invite.uid, []).append(index)
    changes = []
    for uid, indices in by_uid.items():
        newest = max(messages[i].invite.sequence for i in indices)
        latest = [messages[i].invite for i in indices if messages[i].invite.sequence == newest]
        requests_ = [invite for invite in latest if invite.method == "REQUEST"]
        cancels = [i for i in latest if i.method == "CANCEL" and i.cancel_scope == "event"]
        language = messages[indices[0]].language
        if requests_:
            change = EventChange(uid, "upsert", requests_[0], tuple(indices), language)
        elif cancels:
            change = EventChange(uid, "cancel", cancels[0], tuple(indices), language)
        else:
            change = EventChange(uid, "none", latest[0], tuple(indices), language)
        changes.append(change)
    return changes


def spread(
    changes: Sequence[EventChange], size: int, apply, service: str
) -> list[DeliveryError | None]:
    """Run ``apply(change)`` per change and give its outcome to every message it answers for."""
    outcomes: list[DeliveryError | None] = [None] * size
    for change in changes:
        try:
            with using(change.language) if change.language else nullcontext():
                outcome = apply(change)
        except (KeyError, ValueError, TypeError) as error:
            # A provider answer we cannot read must not stop the other groups of the batch. Only
            # the type: the error's text quotes the answer (addresses, ids), and the delivery
            # row already says which group it was.
            outcome = DeliveryError(
                f"{service}: unexpected answer ({type(error).__name__})", transient=False
            )
        for index in change.indices:
            outcomes[index] = outcome
    return outcomes


class ChangeFailed(Exception):
    """Carries a DeliveryError out of a provider's nested helpers to :func:`send_changes`."""

    def __init__(self, error: DeliveryError):
        super().__init__(error.reason)
        self.error = error


@contextmanager
def reading(service: str, session: requests.Session) -> Iterator[None]:
    """Around a provider's read (free/busy): its failures come out as one DeliveryError, and
    the session is closed whatever happens."""
    try:
        yield
    except ChangeFailed as failed:
        raise failed.error from None
    except requests.RequestException as error:
        raise network_failure(service, error) from None
    finally:
        session.close()


def send_changes(
    messages: Sequence[Message], apply, service: str, session: requests.Session
) -> list[DeliveryError | None]:
    """A provider channel's ``send``: each group's newest change once, shared by its members.

    ``apply(change)`` returns the outcome or raises :class:`ChangeFailed`; network errors are
    transient. The session's pooled sockets are closed afterwards (it reopens them on next use).
    """

    def guarded(change: EventChange) -> DeliveryError | None:
        try:
            return apply(change)
        except ChangeFailed as failed:
            return failed.error
        except requests.RequestException as error:
            return network_failure(service, error)

    try:
        return spread(event_changes(messages), len(messages), guarded, service)
    finally:
        session.close()


class ProviderSession(requests.Session):
    """A requests session whose ``verify`` setting wins over REQUESTS_CA_BUNDLE.

    requests lets that environment variable override ``session.verify`` (psf/requests#3829),
    which would silently ignore a CA bundle given in the settings (or by tests).
    """

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify
        return super().request(method, url, *args, **kwargs)
