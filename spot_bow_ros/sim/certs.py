"""TLS material for the simulated Spot: a throw-away CA and a server certificate for `*.spot.robot`.

A real Spot presents a certificate signed by Boston Dynamics' robot CA for the authorities
`*.spot.robot`; bosdyn clients verify it against the CA they were given
(`sdk.load_robot_cert`) with `grpc.ssl_target_name_override` set to the service authority.
The simulator does the same with its own CA, so TLS is really verified: a client that trusts
another CA is refused. EC P-256 keys keep generation to a few milliseconds.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Authorities a client contacts before it has read the directory (see DESIGN.md section 5).
STARTUP_AUTHORITIES = ("auth.spot.robot", "api.spot.robot", "id.spot.robot",
                       "payload-registration.spot.robot")

CA_CERT_FILE = "robot_ca.pem"
SERVER_CERT_FILE = "robot_server.pem"
SERVER_KEY_FILE = "robot_server_key.pem"


@dataclass(frozen=True)
class RobotCertificates:
    """Paths and PEM bytes of the simulator's CA and server certificate."""

    directory: Path
    ca_cert_path: Path
    ca_cert_pem: bytes
    server_cert_pem: bytes
    server_key_pem: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spot_bow_ros simulated Spot"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def generate_certificates(directory: str | os.PathLike | None = None,
                          valid_days: int = 30) -> RobotCertificates:
    """Create a CA and a server certificate for `*.spot.robot` in `directory` (default: new temp dir).

    If `directory` already holds a complete set (from an earlier run), it is reused, so a
    simulator restarted with the same directory is trusted by clients holding the old CA path.
    """
    out = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="spot_sim_tls_"))
    out.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = out / CA_CERT_FILE, out / SERVER_CERT_FILE, out / SERVER_KEY_FILE
    if ca_path.is_file() and cert_path.is_file() and key_path.is_file():
        return RobotCertificates(out, ca_path, ca_path.read_bytes(), cert_path.read_bytes(),
                                 key_path.read_bytes())

    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=valid_days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("spot_bow_ros simulated robot CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("*.spot.robot"), x509.DNSName("spot.robot")]
    names += [x509.DNSName(a) for a in STARTUP_AUTHORITIES]
    names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("api.spot.robot")).issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    cert_pem = server_cert.public_bytes(serialization.Encoding.PEM)
    key_pem = server_key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    # Key first and private; the CA last so a partial set is never mistaken for a complete one.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    cert_path.write_bytes(cert_pem)
    ca_path.write_bytes(ca_pem)
    return RobotCertificates(out, ca_path, ca_pem, cert_pem, key_pem)
