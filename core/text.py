"""What free text Fika accepts from people: one rule for every way in.

Names, departments, offices, topics and programme names come from the opt-in form, the
preferences page, the admin, the JSON API, CSV files and Slack or Teams profiles. They end up in
email headers, calendar files and chat messages, so a line break in a name would stop every
invite to that person (the mail writer refuses it, rightly) and a NUL would make PostgreSQL
refuse the row. Every way in checks text with :func:`text_problem`; what comes from another
service's profile, where nobody can be shown a field error, goes through :func:`clean_text`.
"""

from __future__ import annotations

import re

#: C0 controls (tab, line feed, carriage return, NUL ...), DEL, C1 controls (NEL ...) and the
#: Unicode line and paragraph separators: everything that a header, a calendar property or a
#: database column must not see inside one line of text.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

#: Those characters as the inside of a JSON Schema (ECMA 262) character class.
_CONTROL_CLASS = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029"
#: Public, for patterns built on the rule (a programme's filter names, ``web.api.openapi``).
CONTROL_CLASS = _CONTROL_CLASS
#: The same rule as a JSON Schema / OpenAPI ``pattern``: no such character anywhere.
PLAIN_TEXT_PATTERN = f"^[^{_CONTROL_CLASS}]*$"
#: The rule for text that may not be blank either: somewhere a character that is not white space.
FILLED_TEXT_PATTERN = f"^[^{_CONTROL_CLASS}]*[^\\s{_CONTROL_CLASS}][^{_CONTROL_CLASS}]*$"

#: What a person is told when their text breaks the rule (after the field's name).
CONTROL_MESSAGE = "must not contain line breaks, tabs or other control characters"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as one line of text, or None when it can."""
    if CONTROL_CHARACTERS.search(value):
        return CONTROL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not text any database or mail server takes
        return "contains characters that are not valid text"
    return None


def is_plain_text(value: str) -> bool:
    """Whether ``value`` passes :func:`text_problem`."""
    return text_problem(value) is None


def clean_text(value: str) -> str:
    """``value`` made acceptable: control characters become spaces, runs of spaces collapse.

    For text no person can correct on a form (a Slack display name, a Teams profile title).
    """
    value = CONTROL_CHARACTERS.sub(" ", value)
    value = value.encode("utf-8", errors="replace").decode("utf-8")
    return " ".join(value.split())
