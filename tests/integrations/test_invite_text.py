"""Invite wording: local times per member, who/where/why, escaping, the Jitsi sign-in note."""

from datetime import UTC, datetime

from core.i18n import using
from integrations.invite_text import (
    JITSI_NOTE,
    format_span,
    local_times,
    render_html,
    render_text,
    summary_for,
)
from tests.integrations.builders import ANA, BEN, CHEN, DST_START, make_invite


def test_summary_names_everyone_naturally():
    assert summary_for(["Ana", "Ben", "Chen"]) == "Fika: Ana, Ben and Chen"
    assert summary_for(["Ana", "Ben"]) == "Fika: Ana and Ben"
    assert summary_for(["Ana"]) == "Fika: Ana"
    assert summary_for(["Ana", "Ben"], programme="Coffee") == "Coffee: Ana and Ben"


def test_local_times_are_in_each_members_zone():
    invite = make_invite(start=datetime(2025, 3, 12, 13, 0, tzinfo=UTC))
    times = dict((a.email, text) for a, text in local_times(invite))
    assert times[ANA.email] == "Wed 12 Mar 2025, 14:00–14:30 CET (Europe/Stockholm)"
    assert times[BEN.email] == "Wed 12 Mar 2025, 09:00–09:30 EDT (America/New_York)"
    assert times[CHEN.email] == "Wed 12 Mar 2025, 18:30–19:00 IST (Asia/Kolkata)"


def test_local_times_follow_daylight_saving_changes():
    # 01:30 UTC on the day Europe moves its clocks: Stockholm is already on summer time.
    times = dict((a.email, text) for a, text in local_times(make_invite(start=DST_START)))
    assert times[ANA.email].startswith("Sun 30 Mar 2025, 03:30–04:00 CEST")


def test_unknown_zone_falls_back_to_utc():
    bad = ANA.__class__("X", "x@example.org", "Mars/Olympus")
    ((_, text),) = local_times(make_invite(attendees=(bad,)))
    assert text.endswith("(UTC)")


def test_text_has_who_when_where_why_and_starter():
    invite = make_invite()
    text = render_text(invite, recipient=BEN)
    assert text.startswith("Hello Ben Okafor,")
    for expected in (
        "Ana Álvarez (Engineering)",
        "Chen Wei (People & Culture)",
        "09:00–09:30 EDT",
        "14:00–14:30 CET",
        invite.video_url,
        invite.reasons[0],
        invite.starter,
        JITSI_NOTE,
    ):
        assert expected in text


def test_in_person_names_the_office_and_keeps_the_link():
    invite = make_invite(mode="in_person", site="Stockholm HQ, 4th floor kitchen")
    text = render_text(invite)
    assert "In person at Stockholm HQ, 4th floor kitchen." in text
    assert invite.video_url in text


def test_no_jitsi_note_for_other_video_services():
    invite = make_invite(video_url="https://video.example.org/room/1")
    assert JITSI_NOTE not in render_text(invite)
    assert "Jitsi" not in render_html(invite)


def test_html_escapes_everything_from_people():
    evil = ANA.__class__('<script>alert("x")</script>', "e@example.org", "UTC", "R&D <b>")
    invite = make_invite(
        attendees=(evil, BEN),
        reasons=("<img src=x onerror=alert(1)>",),
        starter="Is 1 < 2 & 3 > 2?",
        video_url="javascript:alert(1)",
    )
    html = render_html(invite, recipient=evil)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html
    assert "R&amp;D &lt;b&gt;" in html
    assert "Is 1 &lt; 2 &amp; 3 &gt; 2?" in html
    assert 'href="javascript' not in html


def test_cancellation_and_update_are_said_plainly():
    assert "cancelled" in render_text(make_invite(method="CANCEL", sequence=1))
    assert "changed" in render_text(make_invite(sequence=2))
    removed = make_invite(method="CANCEL", sequence=1, cancel_scope="attendees")
    assert "no longer part" in render_html(removed)


def test_a_span_said_once_in_one_language_is_said_again_in_anothers_words():
    """Spans are kept per language: the first reader's words never reach the next reader."""
    start = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    end = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    said = {}
    for language in ("en", "sv", "de", "en"):
        with using(language):
            said.setdefault(language, set()).add(format_span(start, end, "Europe/Stockholm"))
    assert said == {
        "en": {"Mon 07 Dec 2026, 09:00–09:30 CET (Europe/Stockholm)"},
        "sv": {"måndag 7 december 09:00–09:30 CET (Europe/Stockholm)"},
        "de": {"Montag, 7. Dezember, 09:00–09:30 CET (Europe/Stockholm)"},
    }


def _fresh(render, *args):
    """``render(*args)`` with the group texts rendered afresh (nothing kept from before)."""
    from integrations import invite_text

    invite_text._group_text.cache_clear()
    invite_text._group_html.cache_clear()
    return render(*args)


def test_kept_group_texts_equal_fresh_ones_per_language_and_version():
    """A group's words are kept per (invite, language): members reading different languages,
    one after the other, and an update with a higher SEQUENCE each get what a fresh render
    gives, never another language's or the earlier version's words."""
    from dataclasses import replace

    from integrations.invite_text import render_html, render_text

    first = make_invite()
    update = replace(first, sequence=1, site="Malmö", mode="in_person")
    cases = [
        (invite, language, member)
        for invite in (first, update)
        for language in ("sv", "de", "en", "sv")
        for member in (ANA, BEN, None)
    ]
    expected = {}
    for invite, language, member in cases:
        with using(language):
            expected[invite, language, member] = (
                _fresh(render_text, invite, member),
                _fresh(render_html, invite, member),
            )
    for invite, language, member in cases:  # now served from what was kept
        with using(language):
            kept = (render_text(invite, member), render_html(invite, member))
        assert kept == expected[invite, language, member]
    assert expected[first, "sv", ANA] != expected[first, "de", ANA]
    assert expected[first, "sv", ANA] != expected[update, "sv", ANA]
    assert expected[first, "sv", ANA] != expected[first, "sv", BEN]


def test_a_members_text_is_the_groups_with_a_greeting():
    """The member's text and HTML are the group's (the calendar's DESCRIPTION) with one
    greeting put in front: the shape kept group texts rely on."""
    from integrations.invite_text import render_html, render_text

    invite = make_invite()
    for language in ("en", "sv", "de"):
        with using(language):
            text, html = render_text(invite, BEN), render_html(invite, BEN)
            group_text, group_html = render_text(invite), render_html(invite)
        greeting = text.split("\n", 1)[0]
        assert "Ben Okafor" in greeting
        assert text == greeting + "\n\n" + group_text
        assert html.replace(f"<p>{greeting}</p>", "", 1) == group_html
        assert html.startswith('<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n<p>')


def test_unhashable_invites_are_rendered_without_keeping_them():
    from dataclasses import replace

    from integrations.invite_text import render_html, render_text

    invite = make_invite()
    odd = replace(invite, reasons=list(invite.reasons))  # a list cannot be a key
    assert render_text(odd, ANA) == render_text(invite, ANA)
    assert render_html(odd, ANA) == render_html(invite, ANA)


def test_web_links_are_recognised_as_urlsplit_reads_them():
    from urllib.parse import urlsplit

    from integrations.invite_text import _is_web

    for url in ("https://x.org/a", "http://x", "HTTPS://x.org", " https://x", "javascript:x",
                "ftp://x", "https:x", "", "mailto:a@b", "\thttp://x", "https//x"):  # fmt: skip
        assert _is_web(url) == (urlsplit(url).scheme in ("http", "https")), url
