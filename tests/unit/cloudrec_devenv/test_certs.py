"""The control plane's certificates: chains verify; names and usages are what Kubernetes reads."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloudrec_devenv.certs import CertificateAuthority, service_account_signing_key


def _load(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def test_a_serving_certificate_names_localhost_and_127_0_0_1_and_chains_to_its_ca() -> None:
    ca = CertificateAuthority("serving-ca")
    pair = ca.issue("localhost", dns_names=["localhost"], ip_addresses=["127.0.0.1"], server=True)
    cert = _load(pair.cert_pem)

    cert.verify_directly_issued_by(_load(ca.cert_pem))
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_an_admin_client_certificate_carries_system_masters_as_its_organization() -> None:
    ca = CertificateAuthority("client-ca")
    cert = _load(ca.issue("admin", organizations=["system:masters"], client=True).cert_pem)

    organizations = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [o.value for o in organizations] == ["system:masters"]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "admin"
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_a_leaf_key_matches_its_certificate() -> None:
    pair = CertificateAuthority("ca").issue("leaf", client=True)
    key = serialization.load_pem_private_key(pair.key_pem, password=None)

    assert key.public_key() == _load(pair.cert_pem).public_key()


def test_a_ca_is_a_ca_and_a_leaf_is_not() -> None:
    ca = CertificateAuthority("ca")
    leaf = _load(ca.issue("leaf", server=True).cert_pem)

    assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_a_certificate_for_neither_server_nor_client_is_refused() -> None:
    with pytest.raises(ValueError, match="server, a client or both"):
        CertificateAuthority("ca").issue("nobody")


def test_the_service_account_key_pair_is_one_ec_key_in_pem() -> None:
    private_pem, public_pem = service_account_signing_key()
    private = serialization.load_pem_private_key(private_pem, password=None)
    public = serialization.load_pem_public_key(public_pem)

    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert private.public_key() == public
