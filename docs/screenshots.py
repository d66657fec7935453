"""Screenshots of Fika's main pages with demo data, taken in headless Chromium.

    python docs/screenshots.py [--out docs/screenshots] [--people 60] [--full-page]
                               [--chromium /usr/bin/chromium]

Starts Fika on a free loopback port with a fresh SQLite database in a temporary folder: the
demo organisation (``fika demo``'s people and round) plus some weeks of history
(``fika.demo_history``). Then, signed in as the demo admin and as a demo person, it saves PNGs
of the admin's dashboard, insights and a round at 1280 px (the dashboard at 390 px too), and
the people's form and "my coffee breaks" at 390 px, one screen each. Needs the test extras
(Playwright) and Chromium.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

PAGES = [
    # (file name, who is signed in, path (None: the newest round), widths)
    ("admin-dashboard", "admin", "/admin/", ("1280", "390")),
    ("admin-insights", "admin", "/admin/insights", ("1280",)),
    ("admin-round", "admin", None, ("1280",)),
    ("join", None, "/", ("390",)),
    ("my-breaks", "person", "/me", ("390",)),
]
SIZES = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@contextmanager
def demo_site(folder: Path, people: int = 60) -> Iterator[tuple[str, object]]:
    """Fika with demo data, served on 127.0.0.1 in a thread; yields (base URL, app)."""
    from werkzeug.serving import make_server

    from core.db import db
    from fika.demo import run_demo
    from fika.demo_history import ADMIN_EMAIL, add_history, demo_admin
    from web import create_app
    from web.config import current_settings

    served = {}
    server = make_server("127.0.0.1", 0, lambda e, s: served["app"](e, s), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = served["app"] = create_app(
        {
            "FIKA_ENV": "demo",
            "SECRET_KEY": "screenshots",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'fika.sqlite3'}",
            "INSTANCE_PATH": str(folder / "instance"),
            "FIKA_OUTBOX_DIR": str(folder / "outbox"),
            "FIKA_BASE_URL": base,
            "FIKA_TIMEZONE": "Europe/Stockholm",
            "FIKA_ADMIN_EMAILS": ADMIN_EMAIL,
        }
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    logging.getLogger("fika").setLevel(logging.WARNING)
    with app.app_context():
        db.create_all()
        settings = current_settings()
        run_demo(settings, people, 7)  # people, today's (or the next) round, sent
        add_history(settings, datetime.now(UTC).date())
        demo_admin(settings.timezone)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def sign_in(page, app, email: str, next_url: str) -> None:
    """Sign ``page``'s browser in as ``email`` through a real sign-in link."""
    from sqlalchemy import select

    from core.db import db
    from core.models import Person
    from core.signin import issue_link
    from web.config import current_settings

    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == email))
        link = issue_link(current_settings(), person, next_url)
    page.goto(link)
    # The demo (FIKA_ENV=demo) signs in as the link opens; elsewhere the link asks for a click.
    button = page.get_by_role("button", name="Sign in")
    if button.count():
        button.click()
        page.wait_for_load_state()
    if urlsplit(page.url).path != next_url:
        raise RuntimeError(f"signing in as {email} ended on {page.url}, not {next_url}")


def latest_round(app) -> int:
    """The id of the newest round (for its admin page)."""
    from sqlalchemy import select

    from core.db import db
    from core.models import Round

    with app.app_context():
        return db.session.scalar(
            select(Round.id).where(Round.is_round()).order_by(Round.date.desc()).limit(1)
        )


def main(argv: list[str] | None = None) -> int:
    """Take the screenshots; print each file written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not one screen")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    from fika.demo_history import ADMIN_EMAIL

    with tempfile.TemporaryDirectory() as tmp, demo_site(Path(tmp), args.people) as (base, app):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, headless=True, args=ARGS
            )
            contexts = {who: browser.new_context() for who in (None, "admin", "person")}
            sign_in(contexts["admin"].new_page(), app, ADMIN_EMAIL, "/admin/")
            sign_in(contexts["person"].new_page(), app, "demo0001@example.org", "/me")
            for name, who, path, widths in PAGES:
                page = contexts[who].new_page()
                page.goto(base + (path or f"/admin/rounds/{latest_round(app)}"))
                for label in widths:
                    page.set_viewport_size(SIZES[label])
                    target = args.out / f"{name}-{label}.png"
                    page.screenshot(path=str(target), full_page=args.full_page)
                    print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
                page.close()
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
