"""Conversation starters for a coffee break, rotated so nobody sees the same one twice in a row.

The set is curated around a learning culture: questions that invite people to share what they
learn and how they work, and that a stranger from another department can answer comfortably.
The choice is a pure function of its inputs (no randomness, no clock) so a resend of an invite
carries the same starter and tests can pin the result.

A group's starter is stored in English (it is also how rotation recognises one a member saw) and
translated into each reader's language when the message is sent (:func:`translate_starter`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from core.i18n import N_
from core.i18n import gettext as _

STARTERS: tuple[str, ...] = (
    N_("What is something you learned this week?"),
    N_("What would you like to get better at this quarter?"),
    N_("What is a mistake that taught you something useful?"),
    N_("Which book, talk or podcast changed how you work?"),
    N_("What is a skill from outside work that helps you at work?"),
    N_("What does a good day at work look like for you?"),
    N_("What is something your team does that others could borrow?"),
    N_("Who taught you something important, and what was it?"),
    N_("What is a question you are curious about at the moment?"),
    N_("What is the best piece of feedback you have received?"),
    N_("What tool or habit saves you the most time?"),
    N_("What did you learn from a project that did not go as planned?"),
    N_("What would you teach in a 10-minute lunch talk?"),
    N_("What is something you changed your mind about recently?"),
    N_("How do you learn best: reading, doing, or talking it through?"),
    N_("What is a problem your team is working on that others might help with?"),
    N_("What is one thing about your job that surprises people?"),
    N_("What is something new you tried this month?"),
    N_("Which part of your work would you like to understand more deeply?"),
    N_("What advice would you give yourself on your first day here?"),
    N_("What is a small experiment you would like to run at work?"),
    N_("What is a recent small win you are proud of?"),
    N_("What is something you are learning outside work?"),
    N_("Which colleague's way of working do you admire, and why?"),
    N_("What is a question you wish people asked you about your work?"),
    N_("What has helped you get unstuck when learning something hard?"),
    N_("What is an idea from another field that you find useful?"),
    N_("What would you explore if you had one free day a week to learn?"),
    N_("What is a common misconception about your department?"),
    N_("What is something you would like to learn from someone in another team?"),
    N_("How do you keep up with changes in your field?"),
    N_("What is the most useful thing you learned from a customer or user?"),
    N_("What is a habit you have built that you are glad about?"),
    N_("What is one thing you would like to stop, start or continue doing?"),
    N_("What made a meeting or workshop you attended really worthwhile?"),
    N_("What is a topic you could talk about for an hour without notes?"),
)


def _stable_index(key: str, size: int) -> int:
    """Map ``key`` to an index in ``range(size)`` the same way on every machine and run.

    Python's built-in ``hash`` is salted per process, so it would pick a different starter after
    a restart; a SHA-256 prefix does not.
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % size


def choose_starter(recent: Iterable[str], key: str) -> str:
    """Pick a starter for a group, avoiding any starter one of its members saw last time.

    ``recent`` holds the last starter each member saw; ``key`` is something stable for the
    group's break (its invite UID, say), so the same break always gets the same starter. When
    the members have between them already seen every starter, any starter may be chosen again.
    """
    seen = set(recent)
    candidates = [starter for starter in STARTERS if starter not in seen] or list(STARTERS)
    return candidates[_stable_index(key, len(candidates))]


def translate_starter(starter: str) -> str:
    """``starter`` in the current language; one Fika does not know stays as it is."""
    return _(starter) if starter else starter
