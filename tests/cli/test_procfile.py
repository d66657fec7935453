"""The Procfile's web process, run as a platform would run it: gunicorn with gunicorn.conf.py."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_web_process_serves_with_threaded_workers(tmp_path):
    command = shlex.split(procfile()["web"])
    assert command[:3] == ["gunicorn", "-c", "gunicorn.conf.py"]
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FIKA_", "DATABASE_URL"))},
        "FIKA_SECRET_KEY": "procfile-test-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fika.db'}",
        "FIKA_INSTANCE_PATH": str(tmp_path / "instance"),
        "FIKA_BASE_URL": f"http://127.0.0.1:{port}",
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --log-level info",
        "WEB_CONCURRENCY": "1",
    }
    subprocess.run([sys.executable, "-m", "fika.cli", "db", "upgrade"], env=env, cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", *command], env=env, cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and "csrf_token" in response.text
    finally:
        server.terminate()  # a graceful stop: slow on a busy machine, so give it time
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    assert "Using worker: gthread" in log_path.read_text()
