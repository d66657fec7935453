""" "Why you were matched", translated whole into the reader's language when a message is sent.

The planner (``pairing/describe.py``, pure and language-free) writes each reason as one English
sentence, and groups store them so. Each shape it writes is recognised here, with its parameters
(names, counts, offices), and rendered as one whole translated sentence, so translators see
complete sentences with named placeholders and plural forms. Old rows keep rendering: English is
returned as stored, and a reason of an unknown shape is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.i18n import current_language, ngettext
from core.i18n import gettext as _

_COUNTS = {"both": 2, "all three": 3, "all four": 4, "all five": 5, "all six": 6}
_COUNTS.update({"all seven": 7, "all eight": 8})
_PAIR = re.compile(r"(?P<a>.+?) and (?P<b>.+)")


def _size(together: str) -> int:
    if together in _COUNTS:
        return _COUNTS[together]
    return int(together.removeprefix("all "))


def _names(text: str) -> str:
    """A listing "A, B and C" with "and" in the current language."""
    head, sep, last = text.rpartition(" and ")
    if not sep:
        return text
    return _("%(names)s and %(last)s", names=head, last=last)


def _met(match: re.Match[str]) -> str:
    num, who = int(match["n"]), match["who"]
    crowded = match["crowded"] is not None
    if who == "you":
        if crowded:
            return ngettext(
                "you met %(num)d round ago; nobody new was free at the same time",
                "you met %(num)d rounds ago; nobody new was free at the same time",
                num,
            )
        return ngettext("you last met %(num)d round ago", "you last met %(num)d rounds ago", num)
    pair = _PAIR.fullmatch(who)
    first, second = (pair["a"], pair["b"]) if pair else (who, "")
    if crowded:
        return ngettext(
            "%(first)s and %(second)s met %(num)d round ago; nobody new was free at the same time",
            "%(first)s and %(second)s met %(num)d rounds ago; nobody new was free at the same time",
            num,
            first=first,
            second=second,
        )
    return ngettext(
        "%(first)s and %(second)s last met %(num)d round ago",
        "%(first)s and %(second)s last met %(num)d rounds ago",
        num,
        first=first,
        second=second,
    )


def _place(part: str) -> str:
    if part == "remote":
        return _("remote")
    if part.endswith(" office"):
        return _("%(site)s office", site=part.removesuffix(" office"))
    return part


def _places(match: re.Match[str]) -> str:
    joined = " + ".join(_place(part) for part in match["places"].split(" + "))
    return _("%(places)s, by video", places=joined) if match["video"] else joined


def _curious(match: re.Match[str]) -> str:
    size, topics = _size(match["together"]), _names(match["topics"])
    if size == 2:
        return _("both curious about %(topics)s", topics=topics)
    return _("all %(num)d curious about %(topics)s", num=size, topics=topics)


def _only_slot(match: re.Match[str]) -> str:
    size, minutes = _size(match["together"]), int(match["minutes"])
    if size == 2:
        return _("the only %(minutes)d minutes that suit both of you", minutes=minutes)
    return _("the only %(minutes)d minutes that suit all %(num)d of you", minutes=minutes, num=size)


def _in_person(match: re.Match[str]) -> str:
    if match["site"]:
        return _("in person at the %(site)s office", site=match["site"])
    return _("in person at the %(place)s", place=match["place"])


_TOGETHER = r"(?P<together>both|all [a-z]+|all \d+)"
_PLACE = r"(?:.+ office|remote)"
#: Every shape ``pairing.describe`` writes, most specific first.
SHAPES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"first time you meet"), lambda m: _("first time you meet")),
    (
        re.compile(
            r"(?P<who>.+?) (?:last )?met (?P<n>\d+) rounds? ago"
            r"(?P<crowded>; nobody new was free at the same time)?"
        ),
        _met,
    ),
    (re.compile(r"all remote, by video"), lambda m: _("all remote, by video")),
    (re.compile(r"in person at the (?:(?P<site>.+) office|(?P<place>.+))"), _in_person),
    (re.compile(_TOGETHER + r" curious about (?P<topics>.+)"), _curious),
    (
        re.compile(r"the only (?P<minutes>\d+) minutes that suit " + _TOGETHER + " of you"),
        _only_slot,
    ),
    (
        re.compile(
            r"(?P<places>(?:.+ office|remote)(?: \+ (?:.+ office|remote))*)(?P<video>, by video)?"
        ),
        _places,
    ),
    (
        re.compile(r"(?P<a>.+?) meets (?P<b>.+)"),
        lambda m: _("%(first)s meets %(second)s", first=m["a"], second=m["b"]),
    ),
    (re.compile(r".+, .+ and .+"), lambda m: _names(m[0])),
)


def translate_reason(reason: str) -> str:
    """One stored reason in the current language (as stored in English, or if unknown)."""
    if current_language() == "en":
        return reason
    for pattern, render in SHAPES:
        match = pattern.fullmatch(reason)
        if match:
            return render(match)
    return reason
