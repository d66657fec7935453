"""Shared set-up for the pairing tests: the hypothesis profile and small factories."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "pairing",
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("pairing")


@pytest.fixture
def person():
    """A factory for JSON-shaped participants with sensible defaults."""

    def make(pid: str, **fields) -> dict:
        return {"id": pid, "department": fields.pop("department", "Sales"), **fields}

    return make
