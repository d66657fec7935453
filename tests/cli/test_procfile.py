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


def _start(tmp_path: Path, port: int, workers: int) -> tuple[subprocess.Popen, Path]:
    """The Procfile's web command on ``port`` with ``workers`` workers, once it answers."""
    command = shlex.split(procfile()["web"])
    assert command[:3] == ["gunicorn", "-c", "gunicorn.conf.py"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FIKA_", "DATABASE_URL"))},
        "FIKA_SECRET_KEY": "procfile-test-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fika.db'}",
        "FIKA_INSTANCE_PATH": str(tmp_path / "instance"),
        "FIKA_BASE_URL": f"http://127.0.0.1:{port}",
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --log-level info",
        "WEB_CONCURRENCY": str(workers),
    }
    subprocess.run([sys.executable, "-m", "fika.cli", "db", "upgrade"], env=env, cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", *command], env=env, cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            response = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
            break
        except requests.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                _stop(server)
                raise AssertionError("did not start") from None
            time.sleep(0.2)
    assert response.status_code == 200 and "csrf_token" in response.text
    return server, log_path


def _stop(server: subprocess.Popen) -> None:
    server.terminate()  # a graceful stop: slow on a busy machine, so give it time
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def _listening_sockets(port: int) -> int:
    """How many sockets listen on ``port`` (IPv4, Linux ``/proc/net/tcp``)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = f":{port:04X}"
    return sum(1 for line in lines if line.split()[1].endswith(local) and line.split()[3] == "0A")


def test_the_web_process_serves_with_threaded_workers(tmp_path):
    server, log_path = _start(tmp_path, free_port(), workers=1)
    _stop(server)
    assert "Using worker: gthread" in log_path.read_text()


def test_each_worker_listens_on_a_socket_of_its_own(tmp_path):
    """With one shared socket a burst of keep-alive connections can all land on one worker,
    which then serves them on one core while the others idle; with a socket per worker
    (``reuse_port``) the kernel spreads new connections across the workers."""
    port = free_port()
    server, _ = _start(tmp_path, port, workers=2)
    try:
        deadline = time.monotonic() + 30
        while _listening_sockets(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # the second worker may still be booting
        assert _listening_sockets(port) == 2
    finally:
        _stop(server)
