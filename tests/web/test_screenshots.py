"""docs/screenshots.py still works: it serves the demo and writes real PNGs of the main pages."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_screenshot_script_writes_every_page(tmp_path):
    if not Path("/usr/bin/chromium").exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing")
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "docs" / "screenshots.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--out", str(tmp_path), "--people", "16"]) == 0
    expected = {f"{name}-{width}.png" for name, _, _, widths in script.PAGES for width in widths}
    assert {p.name for p in tmp_path.iterdir()} == expected
    for png in tmp_path.iterdir():
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, png.name
