"""Which addresses the recorder refuses to send to, in every textual form (pure)."""

from __future__ import annotations

import ipaddress

import pytest

from cloudrec_recorder.egress.addresses import EgressPolicy, parse_ip_literal, refusal_reason


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("169.254.169.254", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),  # one 32-bit number
        ("0xa9fea9fe", "169.254.169.254"),
        ("0XA9FEA9FE", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),  # octal parts
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("169.254.43518", "169.254.169.254"),  # last part fills two bytes
        ("169.16689662", "169.254.169.254"),  # last part fills three bytes
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("169.254.169.254.", "169.254.169.254"),  # trailing dot
        ("[fd00:ec2::254]", "fd00:ec2::254"),
        ("fd00:ec2::254", "fd00:ec2::254"),
        ("[::ffff:169.254.169.254]", "::ffff:169.254.169.254"),
        ("[::ffff:a9fe:a9fe]", "::ffff:169.254.169.254"),
        ("[fe80::1%25eth0]", "fe80::1"),  # the zone (URL-escaped or not) is dropped
        ("fe80::1%eth0", "fe80::1"),
        ("s3.amazonaws.com", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("08.1.1.1", None),  # 8 is no octal digit
        ("0x", None),  # inet_aton refuses it too
        ("", None),
        ("١٢٧.0.0.1", None),  # non-ASCII digits
    ],
)
def test_every_textual_form_of_an_address_is_read_as_that_address(
    host: str, address: str | None
) -> None:
    parsed = parse_ip_literal(host)
    assert parsed == (ipaddress.ip_address(address) if address else None)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "cloud metadata address"),
        ("fd00:ec2::254", "cloud metadata address"),
        ("100.100.100.200", "cloud metadata address"),
        ("192.0.0.192", "cloud metadata address"),
        ("::ffff:169.254.169.254", "cloud metadata address (inside an IPv6 address)"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata address (inside an IPv6 address)"),
        ("2002:a9fe:a9fe::1", "cloud metadata address (inside an IPv6 address)"),
        ("127.0.0.1", "loopback address"),
        ("127.255.0.9", "loopback address"),
        ("::1", "loopback address"),
        ("::ffff:127.0.0.1", "loopback address (inside an IPv6 address)"),
        ("0.0.0.0", "unspecified address"),
        ("::", "unspecified address"),
        ("169.254.1.1", "link-local address"),
        ("fe80::1", "link-local address"),
        ("10.0.0.7", "private address"),
        ("172.16.0.1", "private address"),
        ("192.168.1.1", "private address"),
        ("fd12:3456::1", "private address"),
        ("::ffff:10.0.0.7", "private address (inside an IPv6 address)"),
        ("100.64.0.1", "reserved address (not publicly routable)"),
        ("224.0.0.1", "multicast address"),
        ("ff02::1", "multicast address"),
        ("240.0.0.1", "private address"),
        ("198.18.0.1", "private address"),
        ("8.8.8.8", None),
        ("52.216.0.1", None),
        ("2606:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),
    ],
)
def test_a_non_public_address_is_refused_naming_its_kind(address: str, reason: str | None) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) == reason


POLICY = EgressPolicy.build(
    [ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("127.0.0.1/32")],
    ["minio.storage.svc", "127.0.0.2:9000", "[::1]:9000"],
)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("10.20.3.4", True),
        ("::ffff:10.20.3.4", True),  # an IPv4 network covers its IPv4-mapped form
        ("10.21.0.1", False),
        ("127.0.0.1", True),
        ("127.0.0.2", False),
        ("169.254.169.254", False),
        ("8.8.8.8", True),
    ],
)
def test_an_administrator_allows_networks(address: str, allowed: bool) -> None:
    assert (POLICY.refusal(ipaddress.ip_address(address)) is None) == allowed


@pytest.mark.parametrize(
    ("host", "port", "allowed"),
    [
        ("minio.storage.svc", 443, True),
        ("MINIO.storage.svc.", 9000, True),
        ("127.0.0.2", 9000, True),
        ("127.0.0.2", 9001, False),
        ("::1", 9000, True),
        ("[::1]", 9000, True),
        ("evil.example", 443, False),
    ],
)
def test_an_administrator_allows_hosts_by_name_or_host_and_port(
    host: str, port: int, allowed: bool
) -> None:
    assert POLICY.host_allowed(host, port) == allowed
