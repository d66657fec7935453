"""Slack: one group DM per coffee break, through the official slack_sdk.

For each group message: find every member by email (``users.lookupByEmail``, remembered in
``user_ids``), open a group DM with them (``conversations.open``) and post the invite
(``chat.postMessage``). Calls are spaced to Slack's documented rate tiers so a round of thousands
of groups does not trip them, and a 429 that still happens is retried in the process only when
Slack asks for a short wait (:class:`BriefRateLimitRetryHandler`); a longer wait goes back to the
outbox, which waits without holding the worker. Every error Slack documents ends as a
:class:`DeliveryError` for that message, never an exception out of :meth:`SlackChannel.send`;
HTTP failures and network errors are judged by the policy all HTTP channels share,
:mod:`integrations.http_failures`.

Members without a Slack account are not a failure of the group: the others still get the DM and
the missing ones are reported in :attr:`SlackChannel.unreachable` (and to the ``fallback``
callback) so the caller can send them the invite by email and show the admin who they are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, MutableMapping, Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from integrations.base import Attendee, DeliveryError, Message, MessageKind
from integrations.http_failures import (
    http_failure,
    is_transient_status,
    network_failure,
    retry_after_in,
    safe_code,
)
from integrations.invite_text import in_reader_language
from integrations.slack_blocks import group_message

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"

# Seconds between calls, from Slack's rate-limit tiers (https://docs.slack.dev/apis/web-api/rate-limits):
# users.lookupByEmail is Tier 4 (100+/min), conversations.open Tier 3 (50+/min), and
# chat.postMessage allows about one message per second per channel.
LOOKUP_INTERVAL = 60 / 100
OPEN_INTERVAL = 60 / 50
POST_INTERVAL_PER_CHANNEL = 1.0

# Error codes that no retry will fix: the documented "not found" family.
_NOT_FOUND = {"users_not_found", "user_not_found"}
# chat.update errors that mean the message cannot be edited any more (a new post replaces it).
_GONE = {"message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found"}
# Errors Slack documents as temporary on its side.
_TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# Errors about the token or app, not the message: every later call would fail the same way, so
# the rest of the batch is failed without calling Slack again.
_FATAL = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "no_permission",
    "not_allowed_token_type",
    "team_access_not_granted",
    "ekm_access_denied",
}

Fallback = Callable[[Message, list[Attendee]], None]


class SlackDeliveryError(DeliveryError):
    """A :class:`DeliveryError` that also keeps Slack's own error code (``error``) for the admin.

    ``reason`` defaults to ``"<method>: <error>"``; HTTP failures bring theirs from the shared
    policy (``"chat.postMessage: HTTP 503 service_unavailable"``).
    """

    def __init__(
        self,
        method: str,
        error: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        reason: str | None = None,
    ):
        super().__init__(
            reason or f"{method}: {error}", transient=transient, retry_after=retry_after
        )
        self.method = method
        self.error = error


class Pacer:
    """Spaces calls ``interval`` seconds apart per key, with an injectable clock and sleep.

    Pacing ahead of Slack's limits is cheaper than being told off: a 429 costs a round trip and
    a ``Retry-After`` wait, and Slack may suspend apps that keep hitting limits.
    """

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}

    def wait(self, key: str = "") -> None:
        """Block until a call for ``key`` is allowed, then book the next slot."""
        now = self._clock()
        due = self._next.get(key, now)
        if due > now:
            self._sleep(due - now)
            now = due
        if len(self._next) > 1000:  # forget channels whose slot has passed: bounded memory
            self._next = {k: t for k, t in self._next.items() if t > now}
        self._next[key] = now + self.interval


def _classify(method: str, exc: Exception) -> SlackDeliveryError:
    """Turn what the SDK raised into a recorded failure: transient only when a retry can help.

    Slack reports most errors on a 200 with ``ok: false``; those are judged by their documented
    code. Any other status goes through the HTTP policy every channel shares, with Slack's
    temporary codes on top.
    """
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = response.status_code
        data = response.data if isinstance(response.data, dict) else {}
        code = safe_code(data.get("error"))
        if status == 200:
            error = code or "unknown_error"
            return SlackDeliveryError(method, error, transient=error in _TRANSIENT)
        transient = is_transient_status(status) or code in _TRANSIENT
        failure = http_failure(method, status, response.headers, code=code, transient=transient)
        return SlackDeliveryError(
            method,
            code or f"http_{status}",
            transient=failure.transient,
            retry_after=failure.retry_after,
            reason=failure.reason,
        )
    if isinstance(exc, SlackRequestError):  # the SDK refused to send it: an invalid URL
        reason = f"{method}: request not sent (SlackRequestError)"
        return SlackDeliveryError(method, "invalid_request", transient=False, reason=reason)
    # URLError, timeouts, connection resets: the network, not the request.
    failure = network_failure(method, exc)
    return SlackDeliveryError(
        method, "network_error", transient=failure.transient, reason=failure.reason
    )


class BriefRateLimitRetryHandler(RetryHandler):
    """Retries a 429 inside the process only when ``Retry-After`` asks for a short wait.

    The SDK's own handler sleeps for whatever Slack says (an hour, if it says so) and reads
    only the seconds form. This one waits at most :data:`MAX_INLINE_WAIT` seconds, read by the
    one ``Retry-After`` parser; a longer wait is not retried here, so the 429 becomes a
    transient failure with its ``retry_after`` and the outbox tries again then.
    """

    def __init__(self, max_retry_count: int = 2, *, sleep: Callable[[float], None] = time.sleep):
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """A 429 whose wait is short, while retries are left."""
        if state.current_attempt >= self.max_retry_count or response is None:
            return False
        wait = self.wait_for(response)
        return response.status_code == 429 and wait is not None and wait <= MAX_INLINE_WAIT

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Wait as Slack asked (at most MAX_INLINE_WAIT), then let the SDK try again."""
        state.next_attempt_requested = True
        self.sleep((self.wait_for(response) if response is not None else None) or 0.0)
        state.increment_current_attempt()

    @staticmethod
    def wait_for(response: HttpResponse) -> float | None:
        """Seconds Slack asks to wait; None when it says nothing readable."""
        return retry_after_in(response.headers)


#: The longest ``Retry-After`` waited out inside the worker; longer waits go back to the outbox.
MAX_INLINE_WAIT = 5.0


class SlackChannel:
    """Delivers group messages as Slack group DMs; see the module docstring for the flow.

    ``user_ids`` maps lower-cased email to Slack user id (``U…``); pass a persistent mapping to
    skip lookups in later rounds. ``fallback(message, members)`` is called once a message's
    outcome is final (delivered or permanently failed) with the members Slack could not reach;
    the same emails are in ``unreachable[message.key]`` after :meth:`send` returns.
    """

    name = "slack"

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        user_ids: MutableMapping[str, str] | None = None,
        fallback: Fallback | None = None,
        max_retries: int = 2,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        timeout: int = 30,
        posts: MutableMapping[str, str] | None = None,
    ):
        self.client = WebClient(
            token=token,
            base_url=api_url if api_url.endswith("/") else api_url + "/",
            timeout=timeout,
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=max_retries),
                BriefRateLimitRetryHandler(max_retry_count=max_retries, sleep=sleep),
            ],
        )
        self.user_ids: MutableMapping[str, str] = user_ids if user_ids is not None else {}
        #: Where each group's message was posted: UID -> "<channel> <ts>", so a later version of
        #: the same break (moved, a member gone) edits that message (chat.update) instead of
        #: posting another one into the same conversation.
        self.posts: MutableMapping[str, str] = posts if posts is not None else {}
        self.fallback = fallback
        self.unreachable: dict[str, list[str]] = {}
        self._lookup_pace = Pacer(LOOKUP_INTERVAL, clock, sleep)
        self._open_pace = Pacer(OPEN_INTERVAL, clock, sleep)
        self._post_pace = Pacer(POST_INTERVAL_PER_CHANNEL, clock, sleep)

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Deliver each message; one outcome per message, in order. Never raises per message.

        ``unreachable`` is reset here and afterwards holds, per message key, the emails of the
        members who did not get the DM because Slack does not know them.
        """
        self.unreachable = {}
        outcomes: list[DeliveryError | None] = []
        fatal: SlackDeliveryError | None = None
        for message in messages:
            if fatal is not None:
                outcomes.append(fatal)
                continue
            try:
                self._deliver(message)
                outcomes.append(None)
            except SlackDeliveryError as err:
                log.warning("slack: message %s not delivered: %s", message.key, err.reason)
                outcomes.append(err)
                if err.error in _FATAL:
                    fatal = err
        return outcomes

    def _deliver(self, message: Message) -> None:
        """Look up, open, post; report members Slack cannot reach once the outcome is final.

        A notice for a channel (``notice.chat_channel``: a learning team's digest) is posted
        straight to that channel, whose member the bot is."""
        if message.notice is not None and message.notice.chat_channel:
            self._post_welcome(message.notice.chat_channel, message)
            return
        members = message.recipients
        found: list[str] = []
        missing: list[Attendee] = []
        for member in members:
            user_id = self._user_id(member.email)
            if user_id is None:
                missing.append(member)
            elif user_id not in found:
                found.append(user_id)
        try:
            if not found:
                raise SlackDeliveryError("users.lookupByEmail", "users_not_found", transient=False)
            channel = self._open(found)
            if message.kind == MessageKind.WELCOME:
                self._post_welcome(channel, message)
            else:
                self._post(channel, message)
        except SlackDeliveryError as err:
            if not err.transient:
                self._report_unreachable(message, missing)
            raise
        self._report_unreachable(message, missing)

    def _report_unreachable(self, message: Message, missing: list[Attendee]) -> None:
        if not missing:
            return
        self.unreachable[message.key] = [m.email for m in missing]
        if self.fallback is not None:
            try:
                self.fallback(message, missing)
            except Exception:  # the caller's hook must not turn a delivered DM into a failure
                log.exception("slack: fallback for message %s failed", message.key)

    def _post_welcome(self, channel: str, message: Message) -> None:
        """Post a welcome DM or a channel notice: its text and blocks were built by core, in the
        reader's language (``core.slack_sync.queue_welcome``, ``core.team_checkins``), and travel
        in the message's notice."""
        notice = message.notice
        if notice is None or not notice.card.get("blocks"):
            raise SlackDeliveryError("chat.postMessage", "no_text", transient=False)
        self._post_pace.wait(channel)
        try:
            self.client.chat_postMessage(
                channel=channel,
                text=notice.text,
                blocks=list(notice.card["blocks"]),
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": "fika_welcome", "event_payload": {"key": message.key}},
            )
        except (SlackClientError, OSError) as exc:
            raise _classify("chat.postMessage", exc) from exc

    def _user_id(self, email: str) -> str | None:
        """The member's Slack user id, or None when Slack has no active user with that email."""
        key = email.strip().lower()
        if key in self.user_ids:
            return self.user_ids[key]
        self._lookup_pace.wait()
        try:
            user = self.client.users_lookupByEmail(email=email.strip())["user"]
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") in _NOT_FOUND:
                return None
            raise _classify("users.lookupByEmail", exc) from exc
        except (SlackClientError, OSError) as exc:
            raise _classify("users.lookupByEmail", exc) from exc
        if not user or user.get("deleted") or user.get("is_bot"):
            return None  # a deactivated account cannot read a DM: treat it like no account
        self.user_ids[key] = user["id"]
        return user["id"]

    def _open(self, user_ids: list[str]) -> str:
        """Open (or find again: Slack returns the same one) the DM with exactly these members."""
        self._open_pace.wait()
        try:
            response = self.client.conversations_open(users=user_ids)
        except (SlackClientError, OSError) as exc:
            raise _classify("conversations.open", exc) from exc
        return response["channel"]["id"]

    def _post(self, channel: str, message: Message) -> None:
        """Post the invite, or edit the group's message when it is already in this conversation.

        The message key travels in the metadata to trace duplicates; the posted message's
        ``ts`` is remembered under the invite's UID (see :attr:`posts`). The words are in the
        reader's language: the programme's in a shared chat.
        """
        with in_reader_language(message):
            text, blocks = group_message(message.invite, message.links)
        uid = message.invite.uid
        posted_channel, _, ts = (self.posts.get(uid) or "").partition(" ")
        if posted_channel == channel and ts and self._update(channel, ts, text, blocks):
            return
        self._post_pace.wait(channel)
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": "fika_invite",
                    "event_payload": {"key": message.key, "uid": message.invite.uid},
                },
            )
        except (SlackClientError, OSError) as exc:
            raise _classify("chat.postMessage", exc) from exc
        posted_ts = response.get("ts")
        if isinstance(posted_ts, str) and posted_ts:
            self.posts[uid] = f"{response.get('channel') or channel} {posted_ts}"

    def _update(self, channel: str, ts: str, text: str, blocks: list) -> bool:
        """Edit the posted message (chat.update); False when Slack no longer has it to edit."""
        self._post_pace.wait(channel)
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") in _GONE:
                return False  # deleted or too old to edit: post the new version instead
            raise _classify("chat.update", exc) from exc
        except (SlackClientError, OSError) as exc:
            raise _classify("chat.update", exc) from exc
        return True


def post_announcement(
    webhook_url: str, text: str, *, timeout: int = 15, max_retries: int = 2
) -> None:
    """Post ``text`` to a channel through an incoming webhook; raise :class:`DeliveryError` if not.

    The webhook URL is a secret (anyone holding it can post), so it never appears in a reason or
    a log line.
    """
    client = WebhookClient(
        webhook_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            BriefRateLimitRetryHandler(max_retry_count=max_retries),
        ],
    )
    try:
        response = client.send(text=text, unfurl_links=False)
    except SlackRequestError:
        raise DeliveryError(
            "slack webhook: request not sent (SlackRequestError)", transient=False
        ) from None
    except (SlackClientError, OSError) as exc:
        raise network_failure("slack webhook", exc) from None
    if response.status_code == 200:
        return
    # Slack answers webhook errors with a plain-text code ("channel_not_found", "no_service").
    code = safe_code((response.body or "").strip())
    raise http_failure("slack webhook", response.status_code, response.headers, code=code)


class SlackWebhookChannel:
    """Posts notices (the round's announcement, room nudges) to an incoming webhook.

    The outbox retries a failure with its own back-off, so the SDK is not asked to retry (its
    handler would sleep through any ``Retry-After`` inside the worker).
    """

    name = "slack_webhook"

    def __init__(self, webhook_url: str, *, timeout: int = 15):
        self._url = webhook_url
        self._timeout = timeout

    def __repr__(self) -> str:  # the URL is a secret: anyone holding it can post
        return "SlackWebhookChannel(webhook_url=<secret>)"

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Post each message's notice text; a failure is recorded, never raised."""
        outcomes: list[DeliveryError | None] = []
        for message in messages:
            if message.notice is None:
                outcomes.append(DeliveryError("slack webhook: not a notice", transient=False))
                continue
            try:
                post_announcement(
                    self._url, message.notice.text, timeout=self._timeout, max_retries=0
                )
                outcomes.append(None)
            except DeliveryError as err:
                log.warning("slack webhook: message %s not delivered: %s", message.key, err)
                outcomes.append(err)
        return outcomes
