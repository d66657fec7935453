"""The default outbox folder: atomic, idempotent files per group version and per message."""

import os

from integrations.outbox_dir import OutboxDirChannel, safe_filename
from tests.integrations.builders import make_invite, messages_for


def test_writes_one_calendar_per_version_and_one_text_per_message(tmp_path):
    invite = make_invite()
    messages = messages_for(invite)
    channel = OutboxDirChannel(tmp_path / "outbox")
    assert channel.name == "outbox"
    assert channel.send(messages) == [None, None, None]
    names = sorted(os.listdir(tmp_path / "outbox"))
    assert names == sorted(
        [safe_filename(f"{invite.uid}-0.ics")] + [safe_filename(m.key) + ".txt" for m in messages]
    )
    text = (tmp_path / "outbox" / (safe_filename(messages[1].key) + ".txt")).read_text()
    assert text.startswith("Hello Ben Okafor,")


def test_resend_overwrites_identically(tmp_path):
    channel = OutboxDirChannel(tmp_path)
    messages = messages_for(make_invite())
    channel.send(messages)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert channel.send(messages) == [None] * 3
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert before == after  # and no temporary files left behind


def test_update_writes_a_new_version_file(tmp_path):
    channel = OutboxDirChannel(tmp_path)
    channel.send(messages_for(make_invite()))
    channel.send(messages_for(make_invite(sequence=1)))
    assert len(list(tmp_path.glob("*.ics"))) == 2


def test_keys_cannot_escape_the_folder():
    assert "/" not in safe_filename("../../etc/passwd")
    assert safe_filename("..") not in ("..", ".")


def test_a_failing_write_is_reported_not_raised(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    outcomes = OutboxDirChannel(blocker).send(messages_for(make_invite())[:2])
    assert len(outcomes) == 2
    assert all(o is not None and not o.transient for o in outcomes)
    assert "not-a-dir" in outcomes[0].reason
