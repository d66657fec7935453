"""Builds the translation catalogues as part of the install (everything else: pyproject.toml).

``build_py`` compiles each ``core/translations/<lang>/LC_MESSAGES/messages.po`` into its
``.mo``: into the source tree (an editable install reads the catalogues from there) and into
the built package (a regular install). ``core.i18n`` still reads a ``.po`` that is newer than
its ``.mo``, so a checkout whose catalogues were just edited never shows stale text.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

TRANSLATIONS = Path("core") / "translations"


def compile_catalogues(source: Path, target: Path) -> list[str]:
    """Write ``target/<lang>/LC_MESSAGES/messages.mo`` for each ``.po`` under ``source``."""
    written = []
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as fp:
            catalog = read_po(fp)
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as fp:
            write_mo(fp, catalog, use_fuzzy=False)
        written.append(str(mo))
    return written


class BuildWithCatalogues(build_py):
    """``build_py`` that also compiles the translation catalogues."""

    def run(self) -> None:
        here = Path(__file__).resolve().parent
        compile_catalogues(here / TRANSLATIONS, here / TRANSLATIONS)
        super().run()
        if not self.editable_mode:
            compile_catalogues(here / TRANSLATIONS, Path(self.build_lib) / TRANSLATIONS)


setup(cmdclass={"build_py": BuildWithCatalogues})
