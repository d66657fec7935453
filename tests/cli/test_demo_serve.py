"""``fika serve --demo`` as a newcomer runs it: a real server in a subprocess on a free port.

The start-up output is short, ends with two sign-in links, and the admin's link opens the admin
dashboard; mails and chat link to the port actually served. Then, in the same folder,
``fika status`` works without any setting.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.servers import free_port

LINK = re.compile(r"^  demo (admin|person) \(([^)]*)\): (http://\S+)$")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a newcomer: no FIKA_* settings and no DATABASE_URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIKA_", "DATABASE_URL"))}
    env.update(extra)
    return env


def fika(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fika", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class Server:
    """``fika serve`` in a subprocess, its stdout and stderr merged and read line by line."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fika", "serve", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def read_until(self, done, timeout: float = 60) -> list[str]:
        """Lines until ``done(line)`` is true (that line included)."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no such line; output so far:\n" + "\n".join(seen)) from None
            seen.append(line)
            if done(line):
                return seen

    def rest(self, wait: float = 1.0) -> list[str]:
        """Lines that arrive within ``wait`` seconds."""
        time.sleep(wait)
        out = []
        while not self.lines.empty():
            out.append(self.lines.get())
        return out

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.reader.join(5)
        self.process.stdout.close()


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    server = Server(["--demo", "--port", str(port), "--people", "12"], tmp_path, clean_env())
    try:
        lines = server.read_until(lambda line: line.startswith("  demo person"))
        yield port, lines, server
    finally:
        server.stop()


def test_serve_demo_is_short_ends_with_links_and_the_admin_link_opens_the_admin(
    demo_server, tmp_path
):
    port, lines, server = demo_server
    assert server.rest() == []  # the links are the last lines
    output = "\n".join(lines)
    # One line per round and a summary of the deliveries; no line per message, no scheduler.
    assert "delivery.sent" not in output and "Adding job" not in output
    assert "apscheduler" not in output and "alembic" not in output
    assert output.count("event=round.planned") == 1
    assert "event=delivery.summary sent=12 retrying=0 dead=0" in output
    assert len(lines) <= 14, output
    assert f"Fika is serving on http://127.0.0.1:{port}/" in output

    links = dict((m.group(1), (m.group(2), m.group(3))) for m in map(LINK.match, lines[-2:]) if m)
    assert set(links) == {"admin", "person"}, lines[-2:]
    admin_email, admin_link = links["admin"]
    assert admin_email == "admin@example.org"
    assert urlsplit(admin_link).netloc == f"127.0.0.1:{port}"

    browser = requests.Session()
    page = browser.get(admin_link, timeout=10)
    assert page.status_code == 200
    assert urlsplit(page.url).path == "/admin/"
    assert "Fika admin" in page.text
    again = requests.get(admin_link, timeout=10)  # single use: a second opening signs nobody in
    assert again.status_code == 410

    person = requests.Session()
    me = person.get(links["person"][1], timeout=10)
    assert me.status_code == 200 and urlsplit(me.url).path == "/me"
    assert "Sign out" in me.text  # signed in, on their own breaks
    assert person.get(f"http://127.0.0.1:{port}/admin/", timeout=10).status_code in (403, 404)


def test_links_in_invites_point_at_the_port_served(demo_server, tmp_path):
    port, _, _ = demo_server
    texts = [p.read_text() for p in (tmp_path / "instance" / "outbox").iterdir() if p.is_file()]
    assert texts
    found = {m for text in texts for m in re.findall(r"http://[\w.\[\]:]+", text)}
    local = {url for url in found if "127.0.0.1" in url or "localhost" in url}
    assert local == {f"http://127.0.0.1:{port}"}


def test_verbose_shows_each_delivery_and_the_scheduler(tmp_path):
    server = Server(
        ["--demo", "--port", str(free_port()), "--people", "4", "--verbose"], tmp_path, clean_env()
    )
    try:
        lines = server.read_until(lambda line: line.startswith("  demo person"))
    finally:
        server.stop()
    output = "\n".join(lines)
    assert output.count("event=delivery.sent") == 4
    assert "apscheduler" in output


def test_after_the_demo_the_cli_works_in_the_same_folder(tmp_path):
    env = clean_env()
    demo = fika("demo", "--people", "4", cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr
    status = fika("status", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    assert "Outbox: pending 0, retrying 0, sent 4, dead 0" in status.stdout
    # The same folder pointed at another database is not the demo: the key is still required.
    other = fika("status", cwd=tmp_path, env={**env, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert other.returncode == 2
    assert other.stderr.strip().splitlines() == [other.stderr.strip()]
    assert "FIKA_SECRET_KEY is not set" in other.stderr
