"""Slack: the members of a channel, as people Fika can take part (issue 20, a linked channel).

:class:`SlackMembers` pages through ``conversations.members`` (``limit`` per page, the next page
from ``response_metadata.next_cursor``) and asks ``users.info`` about each member it has not seen
(remembered in ``cache``). It yields one :class:`SlackMember` at a time, page by page: a channel
of 20,000 members never holds one request open, and nothing holds the whole list in memory.

Skipped, and counted in :attr:`SlackMembers.skipped` by reason: bots and apps (``is_bot``,
``is_app_user`` and Slackbot, ``USLACKBOT``), deactivated accounts (``deleted``), guests
(``is_restricted``, ``is_ultra_restricted``) unless ``include_guests`` (the setting
``FIKA_SLACK_INCLUDE_GUESTS``, off by default: :func:`include_guests`), and accounts without an
email (Slack leaves it out without the ``users:read.email`` scope; Fika knows people by email).

Names, titles and time zones are Slack's raw strings: this layer does not import core, so the
caller runs them through core's free-text cleaning (and checks the zone) before storing them.

Rate limits: a 429 is read by the one HTTP failure policy (:func:`~integrations.http_failures.
retry_after_in`, i.e. ``parse_retry_after``); the same request (the same cursor) is sent again
after the wait, at most :data:`MAX_RATE_LIMIT_RETRIES` times in a row and only for waits up to
``max_wait`` seconds. Beyond that, and for every other failure, :class:`SlackDeliveryError` is
raised with a safe reason (method, HTTP status, Slack's error code; never the token or URL);
(a :class:`MemberSyncError`), whose ``resume_cursor`` says where a later sync can carry on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from integrations.http_failures import retry_after_in
from integrations.slack import DEFAULT_API_URL, Pacer, SlackDeliveryError, _classify

log = logging.getLogger(__name__)

#: Slack's documented maximum for ``limit`` on conversations.members (it recommends 200 or less).
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 200
#: Both methods are Tier 4 (100+ calls a minute): https://docs.slack.dev/apis/web-api/rate-limits
CALL_INTERVAL = 60 / 100
#: 429s in a row for one request that are waited out before the sync gives up.
MAX_RATE_LIMIT_RETRIES = 5
#: The longest Retry-After waited out in the sync; a longer one ends it with ``retry_after``.
MAX_WAIT = 120.0
#: Used when a 429 has no readable Retry-After (Slack always sends one).
DEFAULT_WAIT = 30.0

SLACKBOT = "USLACKBOT"
_TRUE = {"1", "true", "yes", "on"}


class MemberSyncError(SlackDeliveryError):
    """A sync that stopped: the Slack failure, and the page cursor to carry on from (None for
    the first page)."""

    def __init__(self, error: SlackDeliveryError, resume_cursor: str | None):
        super().__init__(
            error.method,
            error.error,
            transient=error.transient,
            retry_after=error.retry_after,
            reason=error.reason,
        )
        self.resume_cursor = resume_cursor


def include_guests(settings: Mapping[str, str | None]) -> bool:
    """``FIKA_SLACK_INCLUDE_GUESTS`` from the channel settings: on for 1, true, yes or on."""
    return (settings.get("FIKA_SLACK_INCLUDE_GUESTS") or "").strip().lower() in _TRUE


@dataclass(frozen=True)
class SlackMember:
    """One person in the channel, Slack's raw strings (clean them before storing)."""

    user_id: str
    email: str
    real_name: str
    title: str
    tz: str  # IANA name as Slack has it, "" when Slack has none
    guest: bool = False


def skip_reason(user: Mapping[str, Any], include_guests: bool = False) -> str | None:
    """Why a ``users.info`` user is not a person for Fika (bot, deleted, guest, no_email)."""
    if user.get("id") == SLACKBOT or user.get("is_bot") or user.get("is_app_user"):
        return "bot"
    if user.get("deleted"):
        return "deleted"
    if (user.get("is_restricted") or user.get("is_ultra_restricted")) and not include_guests:
        return "guest"
    if not str((user.get("profile") or {}).get("email") or "").strip():
        return "no_email"
    return None


def member_from(user: Mapping[str, Any]) -> SlackMember:
    """The fields Fika uses from a ``users.info`` user (profile names before top-level ones)."""
    profile = user.get("profile") or {}
    return SlackMember(
        user_id=str(user["id"]),
        email=str(profile.get("email") or "").strip(),
        real_name=str(profile.get("real_name") or user.get("real_name") or ""),
        title=str(profile.get("title") or ""),
        tz=str(user.get("tz") or ""),
        guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
    )


class SlackMembers:
    """Lists a channel's members through the Web API; see the module docstring.

    ``cache`` maps Slack user id to the member (or None for one skipped); pass a mapping that
    outlives one sync to skip ``users.info`` for people already known, and drop it to notice
    changes (a deactivation, a new title); a member the cache holds as None (skipped before) is
    counted under ``skipped["cached"]``. Calls are paced to Slack's Tier 4 (100 a minute per
    method), so resolving 20,000 unknown members takes about 200 minutes: run it in a job, and
    keep the cache. ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        include_guests: bool = False,
        page_size: int = DEFAULT_PAGE_SIZE,
        cache: MutableMapping[str, SlackMember | None] | None = None,
        max_wait: float = MAX_WAIT,
        max_rate_limit_retries: int = MAX_RATE_LIMIT_RETRIES,
        max_retries: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        timeout: int = 30,
    ):
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}")
        # No rate-limit handler in the client: 429s are waited out here, from the same cursor.
        self.client = WebClient(
            token=token,
            base_url=api_url if api_url.endswith("/") else api_url + "/",
            timeout=timeout,
            retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=max_retries)],
        )
        self.include_guests = include_guests
        self.page_size = page_size
        self.cache: MutableMapping[str, SlackMember | None] = cache if cache is not None else {}
        self.max_wait = max_wait
        self.max_rate_limit_retries = max_rate_limit_retries
        self.skipped: Counter[str] = Counter()
        #: The cursor of the page being read (None for the first): where to resume after a failure.
        self.cursor: str | None = None
        self._sleep = sleep
        self._pace = Pacer(CALL_INTERVAL, clock, sleep)

    def member_ids(self, channel: str, cursor: str | None = None) -> Iterator[list[str]]:
        """Each page of user ids in ``channel``, from ``cursor`` (a ``resume_cursor``) on."""
        self.cursor = cursor or None
        while True:
            data = self._call(
                "conversations.members",
                lambda: self.client.conversations_members(
                    channel=channel, limit=self.page_size, cursor=self.cursor
                ),
            )
            yield [str(m) for m in data.get("members") or []]
            self.cursor = ((data.get("response_metadata") or {}).get("next_cursor") or "").strip()
            if not self.cursor:
                return

    def members(self, channel: str, cursor: str | None = None) -> Iterator[SlackMember]:
        """The people in ``channel``, one at a time; bots, deactivated users and (unless
        ``include_guests``) guests left out and counted in :attr:`skipped`."""
        self.skipped = Counter()
        for page in self.member_ids(channel, cursor):
            for user_id in page:
                member = self._member(user_id)
                if member is not None:
                    yield member

    def member(self, user_id: str) -> SlackMember | None:
        """One user (``users.info``, or the cache) as a person for Fika; None when skipped."""
        return self._member(user_id)

    def _member(self, user_id: str) -> SlackMember | None:
        if user_id in self.cache:
            member = self.cache[user_id]
            if member is None:
                self.skipped["cached"] += 1
            return member
        if user_id == SLACKBOT:
            self.skipped["bot"] += 1
            return None
        user = (
            self._call("users.info", lambda: self.client.users_info(user=user_id)).get("user") or {}
        )
        reason = skip_reason(user, self.include_guests)
        member = None if reason else member_from(user)
        if reason:
            self.skipped[reason] += 1
        self.cache[user_id] = member
        return member

    def _call(self, method: str, request: Callable[[], Any]) -> dict[str, Any]:
        """One Web API call, 429s waited out (capped); any other failure raised as safe."""
        limited = 0
        while True:
            self._pace.wait(method)
            try:
                response = request()
                return response.data if isinstance(response.data, dict) else {}
            except SlackApiError as exc:
                error = _classify(method, exc)
                if exc.response.status_code != 429:
                    raise MemberSyncError(error, self.cursor or None) from exc
                wait = retry_after_in(exc.response.headers)
                wait = DEFAULT_WAIT if wait is None else wait
                limited += 1
                if limited > self.max_rate_limit_retries or wait > self.max_wait:
                    raise MemberSyncError(error, self.cursor or None) from exc
                log.info("slack: %s rate limited; waiting %.0f s", method, wait)
                self._sleep(wait)
            except (SlackClientError, OSError) as exc:
                raise MemberSyncError(_classify(method, exc), self.cursor or None) from exc
