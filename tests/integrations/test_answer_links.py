"""Per-person messages carry the one-click answers and the unsubscribe link; cancellations don't."""

from dataclasses import replace
from email import message_from_bytes, policy

from integrations.email import build_email
from integrations.outbox_dir import OutboxDirChannel
from tests.integrations.builders import make_invite, messages_for

LINKS = {
    "in": "https://fika.example.org/a/tok-in",
    "cant": "https://fika.example.org/a/tok-cant",
    "pause_week": "https://fika.example.org/a/tok-pause?x=1&y=2",
}


def parts(message):
    mail = message_from_bytes(
        bytes(build_email(message, "fika@example.org")), policy=policy.default
    )
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    return text, html


def test_request_email_has_answer_links_and_unsubscribe():
    message = replace(messages_for(make_invite())[0], links=LINKS)
    text, html = parts(message)
    for label, key in (
        ("I'm in", "in"),
        ("Can't make it", "cant"),
        ("Pause me for a week", "pause_week"),
    ):
        assert f"{label}: {LINKS[key]}" in text
    assert 'href="https://fika.example.org/a/tok-pause?x=1&amp;y=2"' in html
    assert "Unsubscribe: https://fika.example.org/unsubscribe/tok-0" in text
    assert 'href="https://fika.example.org/unsubscribe/tok-0"' in html


def test_cancel_email_has_no_answer_links():
    invite = make_invite(method="CANCEL", sequence=1)
    message = replace(messages_for(invite)[0], links=LINKS)
    text, html = parts(message)
    assert "tok-in" not in text and "tok-in" not in html
    assert "Unsubscribe:" in text  # still a way out


def test_links_that_are_not_http_never_become_anchors():
    message = replace(messages_for(make_invite())[0], links={"in": "javascript:alert(1)"})
    _, html = parts(message)
    assert "javascript:" not in html


def test_outbox_text_has_answer_links(tmp_path):
    message = replace(messages_for(make_invite())[0], links=LINKS)
    assert OutboxDirChannel(tmp_path).send([message]) == [None]
    (text_file,) = tmp_path.glob("*.txt")
    assert f"I'm in: {LINKS['in']}" in text_file.read_text()
