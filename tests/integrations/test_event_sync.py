"""Folding a batch into one change per group, and spreading its outcome to the members."""

from dataclasses import replace

from integrations.event_sync import event_changes, spread
from tests.integrations.builders import ANA, BEN, CHEN, make_invite, messages_for


def test_members_messages_become_one_change():
    (change,) = event_changes(messages_for(make_invite()))
    assert change.action == "upsert" and change.indices == (0, 1, 2)


def test_the_newest_version_wins_and_a_request_beats_a_partial_cancel():
    invite = make_invite()
    left = replace(invite, sequence=1, method="CANCEL", cancel_scope="attendees", attendees=(CHEN,))
    rest = replace(invite, sequence=1, attendees=(ANA, BEN))
    batch = messages_for(invite) + messages_for(left) + messages_for(rest)
    (change,) = event_changes(batch)
    assert change.action == "upsert" and change.invite == rest
    assert change.indices == tuple(range(6))


def test_cancel_scopes():
    whole = replace(make_invite(), sequence=1, method="CANCEL")
    assert event_changes(messages_for(whole))[0].action == "cancel"
    partial = replace(whole, cancel_scope="attendees")
    assert event_changes(messages_for(partial))[0].action == "none"


def test_groups_are_kept_apart_and_a_crash_in_one_does_not_stop_the_other():
    one, two = make_invite(), make_invite(uid="other@fika.example.org")
    messages = messages_for(one)[:1] + messages_for(two)[:1]
    changes = event_changes(messages)

    def apply(change):
        if change.uid == one.uid:
            raise KeyError("ana@example.org")  # a provider answer quoting an address
        return None

    outcomes = spread(changes, 2, apply, "CalDAV")
    assert outcomes[0] is not None and not outcomes[0].transient and outcomes[1] is None
    # Only the error's type: neither its text nor the (address-shaped) uid reach the admin.
    assert outcomes[0].reason == "CalDAV: unexpected answer (KeyError)"
