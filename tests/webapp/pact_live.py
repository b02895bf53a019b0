"""A second greenlane process for the PACT tests: self-signed TLS, the CLI, ``serve``."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from pact_tool import ROOT


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost and its key (PEM files in ``tmp``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = tmp / "cert.pem", tmp / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def instance_env(instance: Path) -> dict[str, str]:
    """The environment of a greenlane process of this checkout on its own instance folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GREENLANE_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    return env


def greenlane(env: dict[str, str], *args: str) -> str:
    """Run ``python -m greenlane ARGS``; its stdout (a failure fails the test)."""
    done = subprocess.run(
        [sys.executable, "-m", "greenlane", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@contextmanager
def serving(
    env: dict[str, str], certfile: Path, keyfile: Path, log: Path, *extra: str
) -> Iterator[str]:
    """``greenlane serve --demo --production --port P --certfile C --keyfile K EXTRA``
    until the block ends; yields its PACT base URL ``https://127.0.0.1:P/pact``."""
    port = free_port()
    args = ["serve", "--demo", "--production", "--port", str(port)]
    args += ["--certfile", str(certfile), "--keyfile", str(keyfile), *extra]
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "greenlane", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"https://127.0.0.1:{port}/pact"
        ctx = ssl.create_default_context(cafile=str(certfile))
        deadline = time.monotonic() + 600
        try:
            while True:
                assert server.poll() is None, log.read_text()[-3000:]
                try:
                    with urllib.request.urlopen(
                        f"{base}/.well-known/openid-configuration", context=ctx, timeout=5
                    ) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "the server did not come up in 600 s"
                time.sleep(1)
            yield base
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
