"""Tokens: the fast builder makes what itsdangerous' own serializer makes, and both read back."""

from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from core.signing import make_token, read_token

SECRET = "a-secret-of-the-deployment-0123456789"


@pytest.mark.parametrize(
    "data", [7, ["in", 123456, 654321], ["cant", 5, None], [1, 2, "met"], ["s3cr3t", "/me?é"]]
)
def test_make_token_equals_the_serializers_own_token(data):
    with time_machine.travel(datetime(2026, 12, 7, 9, tzinfo=UTC), tick=False):
        token = make_token(SECRET, "action", data)
        reference = URLSafeTimedSerializer(SECRET, salt="fika:action").dumps(data)
        assert token == reference
        assert read_token(SECRET, "action", token, max_age=60) == data


def test_a_token_is_bound_to_its_purpose_and_secret():
    token = make_token(SECRET, "action", ["in", 1, 2])
    assert read_token(SECRET, "unsubscribe", token) is None
    assert read_token(SECRET + "x", "action", token) is None
    assert read_token(SECRET, "action", token[:-2] + "AA") is None


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(data=_json_values, seconds=st.integers(min_value=0, max_value=4_000_000_000))
def test_any_data_at_any_second_makes_the_serializers_own_token(data, seconds):
    """The hand-made parts (encoder, base64, the timestamp kept per second) never drift from
    itsdangerous' own ``dumps``, whatever the data and the clock (``dumps`` compresses a payload
    when zlib makes it shorter, marked by a leading "."; make_token never does, and both read)."""
    with time_machine.travel(datetime.fromtimestamp(seconds, UTC), tick=False):
        token = make_token(SECRET, "checkin", data)
        reference = URLSafeTimedSerializer(SECRET, salt="fika:checkin").dumps(data)
        if not reference.startswith("."):
            assert token == reference
        assert read_token(SECRET, "checkin", token) == data
