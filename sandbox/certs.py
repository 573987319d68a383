"""A throw-away certificate authority and a leaf certificate for 127.0.0.1.

The ``pagerduty`` client refuses plain ``http://`` base URLs, so every fake
speaks TLS. Clients trust the sandbox by passing ``ca.pem`` as ``verify=``;
nothing is installed system-wide. The CA carries the extensions strict
verifiers (Python 3.13 ``VERIFY_X509_STRICT``) insist on: key usage, subject
and authority key identifiers.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertPaths:
    ca: str
    cert: str
    key: str


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "relais sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    not_before: datetime,
    not_after: datetime,
    *,
    ca: bool,
) -> x509.CertificateBuilder:
    """A certificate with what the CA and the server's have in common; a CA signs certificates
    and CRLs, the server's EC key signs and agrees keys (ECDHE)."""
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
    )


def _names(host: str) -> list[x509.GeneralName]:
    try:
        return [x509.IPAddress(ipaddress.ip_address(host))]
    except ValueError:
        return [x509.DNSName(host)]


def generate(directory: str, host: str = "127.0.0.1") -> CertPaths:
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` into ``directory``; the leaf is good for
    127.0.0.1, localhost and ``host`` (an address or a name)."""
    now = datetime.now(UTC)
    not_before = now - timedelta(days=2)  # a test may step a client's wall clock back
    not_after = now + timedelta(days=30)  # … or forward a day or more

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("relais sandbox CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), not_before, not_after, ca=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        _builder(_name("127.0.0.1"), ca_name, leaf_key.public_key(), not_before, not_after, ca=False)
        .add_extension(
            x509.SubjectAlternativeName(
                list(dict.fromkeys([*_names("127.0.0.1"), x509.DNSName("localhost"), *_names(host)]))
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = CertPaths(
        ca=os.path.join(directory, "ca.pem"),
        cert=os.path.join(directory, "server.pem"),
        key=os.path.join(directory, "server.key"),
    )
    with open(paths.ca, "wb") as fh:
        fh.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths.cert, "wb") as fh:
        fh.write(leaf_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths.key, "wb") as fh:
        fh.write(
            leaf_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    os.chmod(paths.key, 0o600)
    return paths
