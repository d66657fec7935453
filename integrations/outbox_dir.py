"""The default channel: invites written as files into a folder, for when nothing is configured.

A fresh install delivers somewhere visible without any mail server: an administrator can open
the ``.ics`` files in a calendar and read the ``.txt`` messages. Files are written atomically
(temporary file, then rename) so a crash never leaves half an invite, and their names come from
stable keys, so re-sending a message overwrites its file with identical content.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

from integrations.base import DeliveryError, Message, MessageKind
from integrations.ical import build_calendar
from integrations.invite_text import answers_text, in_reader_language, render_text
from integrations.nudges import render_nudge_text
from integrations.room_calendar import build_room_calendar
from integrations.room_calendar import describe as room_text

# Out of space or quota may clear up by itself; anything else (permissions, a file where the
# folder should be) needs a person.
_TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EINTR, errno.EBUSY}


def safe_filename(key: str) -> str:
    """A file name for a key: percent-encoded so "/" or ".." in a key cannot leave the folder."""
    name = quote(key, safe="@-_.")
    return name if name.strip(".") else name.replace(".", "%2E")


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` via a temporary file in the same folder and a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class OutboxDirChannel:
    """Writes ``<uid>-<sequence>.ics`` per group version and ``<key>.txt`` per message."""

    name = "outbox"

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def _deliver(self, message: Message) -> None:
        with in_reader_language(message):  # each .txt in its reader's language
            self._write(message)

    def _write(self, message: Message) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        if message.room is not None:  # a drop-in room: its recurring calendar and its text
            room = message.room
            name = safe_filename(f"{room.uid}-{room.sequence}")
            write_atomically(self.path / (name + ".ics"), build_room_calendar(room))
            text = room_text(room) + answers_text({}, message.unsubscribe_url)
            write_atomically(self.path / (safe_filename(message.key) + ".txt"), text.encode())
            return
        if (
            message.kind != MessageKind.INVITE
        ):  # reminders and check-ins: the text only, no calendar
            text = render_nudge_text(message).encode("utf-8")
            write_atomically(self.path / (safe_filename(message.key) + ".txt"), text)
            return
        invite = message.invite
        calendar_path = self.path / safe_filename(f"{invite.uid}-{invite.sequence}.ics")
        calendar = build_calendar(invite)
        # One file per group version, shared by its members' messages: write it only when it is
        # missing or differs, so a batch of N members does not rewrite it N times.
        if not calendar_path.exists() or calendar_path.read_bytes() != calendar:
            write_atomically(calendar_path, calendar)
        links = message.links if invite.method == "REQUEST" else {}
        text = (
            render_text(invite, message.recipient) + answers_text(links, message.unsubscribe_url)
        ).encode("utf-8")
        write_atomically(self.path / (safe_filename(message.key) + ".txt"), text)

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Write each message; a failing write is reported for that message only."""
        return list(self.stream(messages))

    def stream(self, messages: Sequence[Message]) -> Iterator[DeliveryError | None]:
        """Write each message when the caller asks for its outcome (see ``Channel.stream``)."""
        for message in messages:
            try:
                self._deliver(message)
            except OSError as error:
                yield DeliveryError(
                    f"cannot write to outbox folder {self.path}: {error}",
                    transient=error.errno in _TRANSIENT_ERRNOS,
                )
            else:
                yield None
