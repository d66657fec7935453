"""The catalogues are complete: every string the code and templates show is translated.

The messages are extracted in-process with Babel's own extractor and ``babel.cfg`` (exactly
what ``pybabel extract`` reads), then looked up in each language's ``messages.po``: missing,
untranslated or fuzzy entries fail, and so does a translation whose placeholders are not the
source's (a translator may reorder ``%(name)s`` placeholders, never drop or invent one).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from core.i18n import LANGUAGES, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
#: The keywords of the README's ``pybabel extract`` command (on top of Babel's defaults).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
TRANSLATED = [language for language in LANGUAGES if language != "en"]


def extracted() -> dict[tuple[str | None, str], list[str]]:
    """(context, msgid) -> where it is used, for every marked string in the repository."""
    with (ROOT / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        if not ids[0]:
            continue
        found.setdefault((context, ids), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def messages():
    return extracted()


def catalogue(language: str):
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp, locale=language)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_extraction_finds_the_people_pages_strings(messages):
    """A broken babel.cfg or keyword list would make every other check here pass vacuously."""
    ids = {key[1][0] for key in messages}
    assert "Join the daily coffee break" in ids  # a template
    assert "Please tell us your name." in ids  # a form message (lazy_gettext)
    assert "Please correct this field:" in ids  # an ngettext in a template
    assert len(ids) > 200


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogue_parses_with_the_right_plural_forms(language):
    cat = catalogue(language)
    assert cat.num_plurals == 2
    assert cat.plural_expr.replace(" ", "") == "(n!=1)"
    assert str(cat.locale) == language


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated_and_none_is_fuzzy(messages, language):
    cat = catalogue(language)
    problems = []
    for (context, ids), where in sorted(messages.items(), key=lambda item: item[1][0]):
        msgid = ids if len(ids) > 1 else ids[0]
        entry = cat.get(msgid[0] if isinstance(msgid, tuple) else msgid, context=context)
        if entry is None:
            problems.append(f"missing: {ids[0]!r} ({where[0]})")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r} ({where[0]})")
        if not all(strings) or len(strings) != len(ids) and len(ids) > 1:
            problems.append(f"untranslated: {ids[0]!r} ({where[0]})")
            continue
        expected = set().union(*(placeholders(i) for i in ids))
        for form in strings:
            got = placeholders(form)
            # A plural form may leave out %(num)s ("one round"); nothing else may differ.
            if got != expected and not (len(ids) > 1 and got | {"num"} == expected):
                problems.append(f"placeholders {sorted(got)} != {sorted(expected)}: {ids[0]!r}")
    assert problems == [], f"{language}: {len(problems)} problems:\n" + "\n".join(problems)
