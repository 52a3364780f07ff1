"""TLS for tests: a throwaway certificate authority (a CA, a server certificate for 127.0.0.1 and
localhost, a client certificate, as PEM files made with ``cryptography``) and ``tls_redis``, a
redis-server that speaks TLS with them."""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.ports import free_port
from tests.support.redis_server import REQUIRE_ENV, RedisServer, RedisServerError, require_redis_binary


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_tls_files(folder: Path, name: str = "test") -> TlsFiles:
    """A new CA named ``name`` and the certificates it signs, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )  # digital_signature, key_cert_sign, crl_sign
        .sign(ca_key, hashes.SHA256())
    )
    ca = _write(folder / f"{name}-ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
    server_cert, server_key = _leaf(folder, f"{name}-server", ca_cert, ca_key, ExtendedKeyUsageOID.SERVER_AUTH)
    client_cert, client_key = _leaf(folder, f"{name}-client", ca_cert, ca_key, ExtendedKeyUsageOID.CLIENT_AUTH)
    return TlsFiles(ca, server_cert, server_key, client_cert, client_key)


def _leaf(
    folder: Path, name: str, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, usage: x509.ObjectIdentifier
) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        _builder(subject, ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        _write(folder / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM)),
        _write(folder / f"{name}-key.pem", key_pem),
    )


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@dataclass(frozen=True)
class TlsRedis:
    """A redis-server answering TLS on ``tls_port`` (plain ``server.port`` stays for set-up)."""

    server: RedisServer
    tls_port: int
    files: TlsFiles

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.tls_port}/0"


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[TlsRedis]:
    """A redis-server with TLS on a throwaway CA that requires client certificates. Skips when
    redis-server is missing or built without TLS, unless ``TRIALSTOCK_REQUIRE_REDIS=1``."""
    binary = require_redis_binary()
    files = make_tls_files(tmp_path / "tls")
    tls_port = free_port()
    server = RedisServer(
        binary=binary,
        extra_args=[
            "--tls-port", str(tls_port),
            "--tls-cert-file", str(files.server_cert),
            "--tls-key-file", str(files.server_key),
            "--tls-ca-cert-file", str(files.ca),
            "--tls-auth-clients", "yes",
        ],
    )  # fmt: skip
    try:
        server.start()
    except RedisServerError as exc:
        server.close()
        message = f"redis-server could not start with TLS (built without it?): {exc}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message}; {REQUIRE_ENV}=1 requires it", pytrace=False)
        pytest.skip(message)
    try:
        yield TlsRedis(server, tls_port, files)
    finally:
        server.close()
