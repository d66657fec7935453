"""Real local servers for integration tests: SMTP (aiosmtpd) and CalDAV (Radicale).

A pytest plugin module (``pytest_plugins = ["tests.servers"]`` in tests/conftest.py) so any test
package can use the fixtures. Everything listens on 127.0.0.1 on a free port and is shut down
and closed at the end, because the test run treats ResourceWarnings as errors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it; tiny race, fine for tests)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TlsFiles:
    """A self-signed certificate for 127.0.0.1/localhost and a client context trusting it."""

    certfile: Path
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certfile))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """Generate the certificate once per run with ``cryptography`` (no openssl CLI needed)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsFiles(certfile, keyfile)


@pytest.fixture(scope="session")
def _https_server_session(tls_files: TlsFiles) -> Iterator[HTTPServer]:
    server = HTTPServer(host=HOST, port=0, ssl_context=tls_files.server_context())
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def https_server(_https_server_session: HTTPServer) -> HTTPServer:
    """A pytest-httpserver over HTTPS on 127.0.0.1, for clients that insist on https (msal).

    Clients trust it with ``tls_files.certfile`` as their CA bundle.
    """
    _https_server_session.clear()
    return _https_server_session


# -------------------------------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server received it: the SMTP envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps what it accepts and can be told to refuse the next N."""

    messages: list[ReceivedMail] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    #: Seconds each accepted message takes, as a hosted relay does (0: at once).
    delay: float = 0.0
    #: The most messages the server was taking at one moment (several connections at once).
    peak: int = 0
    _taking: int = 0
    _planned: deque[tuple[str, str]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, reply: str, times: int = 1, at: Literal["RCPT", "DATA"] = "DATA") -> None:
        """Answer ``reply`` (e.g. "451 4.3.0 Try later") to the next ``times`` RCPT or DATA."""
        with self._lock:
            self._planned.extend([(at, reply)] * times)

    def _planned_reply(self, stage: str) -> str | None:
        with self._lock:
            if self._planned and self._planned[0][0] == stage:
                return self._planned.popleft()[1]
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self._planned_reply("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        reply = self._planned_reply("DATA")
        if reply:
            return reply
        self._taking += 1  # one event loop: no lock needed
        self.peak = max(self.peak, self._taking)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self._taking -= 1
        self.messages.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A running server: where it is, what it received, and how to make it refuse mail."""

    host: str
    port: int
    handler: RecordingHandler
    security: str
    client_context: ssl.SSLContext | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.handler.messages

    def fail_next(self, reply: str, times: int = 1, at: Literal["RCPT", "DATA"] = "DATA") -> None:
        self.handler.fail_next(reply, times, at)

    def url(self, username: str | None = None, password: str | None = None) -> str:
        scheme = {"none": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.security]
        auth = f"{username}:{password}@" if username else ""
        return f"{scheme}://{auth}{self.host}:{self.port}"


def _authenticator(credentials: dict[str, str], handler: RecordingHandler) -> Callable[..., Any]:
    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode()
            if credentials.get(login) == auth_data.password.decode():
                handler.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return authenticate


SmtpFactory = Callable[..., SmtpServer]


@pytest.fixture
def smtp_server_factory(tls_files: TlsFiles) -> Iterator[SmtpFactory]:
    """Start SMTP servers: ``factory(security="none"|"starttls"|"tls", credentials={...},
    smtputf8=False)``.

    With "starttls" the server requires STARTTLS before anything else; with credentials it
    offers AUTH (PLAIN/LOGIN) and records successful logins in ``handler.logins``. Use
    credentials only with "starttls" or "tls": aiosmtpd warns (an error here) about AUTH in clear.
    """
    controllers: list[Controller] = []

    def start(
        security: str = "none", credentials: dict[str, str] | None = None, smtputf8: bool = False
    ) -> SmtpServer:
        handler = RecordingHandler()
        port = free_port()
        options: dict[str, Any] = {
            "hostname": HOST,
            "port": port,
            "ready_timeout": 5.0,
            "enable_SMTPUTF8": smtputf8,  # RFC 6531: internationalised addresses
        }
        if security == "starttls":
            options.update(tls_context=tls_files.server_context(), require_starttls=True)
        elif security == "tls":
            options.update(ssl_context=tls_files.server_context())
        if credentials:
            options.update(
                authenticator=_authenticator(credentials, handler),
                # aiosmtpd only counts STARTTLS as TLS: under implicit TLS, requiring "TLS"
                # would hide AUTH, and requiring AUTH without it makes aiosmtpd warn. There the
                # login is offered (and checked: handler.logins) but not enforced.
                auth_required=security != "tls",
                auth_require_tls=security == "starttls",
            )
        controller = Controller(handler, **options)
        controller.start()
        controllers.append(controller)
        context = tls_files.client_context() if security != "none" else None
        return SmtpServer(HOST, port, handler, security, context)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: SmtpFactory) -> SmtpServer:
    """A plain SMTP server without TLS or AUTH, collecting what it receives."""
    return smtp_server_factory()


# ------------------------------------------------------------------------------------ CalDAV


@dataclass(frozen=True)
class RadicaleServer:
    """A running Radicale with one user; ``calendar_url`` is an empty calendar collection."""

    base_url: str
    username: str
    password: str
    storage: Path

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    def make_calendar(self, name: str) -> str:
        """Create a calendar collection with MKCALENDAR and return its URL (trailing slash)."""
        url = f"{self.base_url}/{self.username}/{name}/"
        with requests.Session() as session:
            response = session.request("MKCALENDAR", url, auth=self.auth, timeout=5)
        assert response.status_code == 201, response.text
        return url


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    """Run the real Radicale in a subprocess (htpasswd auth) until the end of the session."""
    folder = tmp_path_factory.mktemp("radicale")
    htpasswd = folder / "users"
    htpasswd.write_text("fika:s3cret pass\n")
    port = free_port()
    log = (folder / "radicale.log").open("wb")
    command = [
        sys.executable, "-m", "radicale", "--config", "",
        "--server-hosts", f"{HOST}:{port}",
        "--storage-filesystem-folder", str(folder / "collections"),
        "--auth-type", "htpasswd",
        "--auth-htpasswd-filename", str(htpasswd),
        "--auth-htpasswd-encryption", "plain",
        "--auth-delay", "0",
        "--rights-type", "owner_only",
        "--logging-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
    base_url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with requests.Session() as session:
                    session.get(base_url + "/", timeout=0.5)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "Radicale did not start: " + (folder / "radicale.log").read_text()
                    ) from None
                time.sleep(0.05)
        yield RadicaleServer(base_url, "fika", "s3cret pass", folder / "collections")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
