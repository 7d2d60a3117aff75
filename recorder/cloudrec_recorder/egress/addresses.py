"""Which network addresses the recorder may send to on a tenant's behalf (pure: no I/O).

A start request names the storage endpoint (and, later, image URLs); without a guard any
pod could make the recorder send requests, with status codes coming back, to the cloud's
metadata service, to the recorder's own loopback or to any private service. This module
decides, for one address, whether it is public, and otherwise why not:

* :func:`parse_ip_literal` reads every textual form a URL host may give an IPv4 or IPv6
  address in (``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376``, ``169.254.43518``,
  ``[::ffff:169.254.169.254]``, zone ids): the forms ``getaddrinfo`` itself accepts;
* :func:`refusal_reason` names the kind of a non-public address (``cloud metadata``,
  ``loopback``, ``link-local``, ``private``, ...), looking through IPv6 forms that carry
  an IPv4 address (IPv4-mapped, NAT64, 6to4);
* :class:`EgressPolicy` adds the administrator's allowances (CIDRs and hosts).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

__all__ = [
    "METADATA_ADDRESSES",
    "EgressPolicy",
    "IPAddress",
    "IPNetwork",
    "embedded_ipv4",
    "parse_ip_literal",
    "refusal_reason",
]

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS IMDS over IPv6
    )
)
"""Cloud instance-metadata services: credentials of the node live there."""

_NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))


def _inet_aton_part(text: str) -> int | None:
    if not text:
        return None
    try:
        if text[:2].lower() == "0x":
            return int(text[2:], 16) if text[2:].isalnum() else None
        if len(text) > 1 and text[0] == "0":
            return int(text[1:], 8)
        return int(text, 10) if text.isdigit() else None
    except ValueError:
        return None


def _parse_ipv4_loose(text: str) -> IPv4Address | None:
    """``inet_aton``'s forms: 1-4 parts, each decimal, octal (``0``) or hex (``0x``)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isascii() for p in parts):
        return None
    values = [_inet_aton_part(p) for p in parts]
    if any(v is None for v in values):
        return None
    numbers = [v for v in values if v is not None]
    *head, last = numbers
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for v in head:
        value = value * 256 + v
    value = value * 256 ** (5 - len(numbers)) + last
    return IPv4Address(value)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a URL host spells out, in any form, or None for a host name.

    >>> parse_ip_literal("0xa9fea9fe")
    IPv4Address('169.254.169.254')
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    if ":" in text:
        address, _, _zone = text.partition("%")
        try:
            return IPv6Address(address)
        except ValueError:
            return None
    return _parse_ipv4_loose(text)


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in net for net in _NAT64):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal_reason(address: IPAddress) -> str | None:
    """Why the recorder must not send to ``address`` by default, or None if it is public."""
    if isinstance(address, IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = refusal_reason(inner)
            return f"{reason} (inside an IPv6 address)" if reason else None
    if address in METADATA_ADDRESSES:
        return "cloud metadata address"
    if address.is_unspecified:
        return "unspecified address"
    if address.is_loopback:
        return "loopback address"
    if address.is_link_local:
        return "link-local address"
    if address.is_multicast:
        return "multicast address"
    if address.is_private:
        return "private address"
    if not address.is_global:
        return "reserved address (not publicly routable)"
    return None


@dataclass(frozen=True)
class EgressPolicy:
    """Public addresses, plus what the administrator allows (recorder settings ``egress``)."""

    allow_networks: tuple[IPNetwork, ...] = ()
    """Networks the recorder may send to although they are not public."""
    allow_hosts: frozenset[str] = frozenset()
    """Host names (lower case) or ``host:port`` the recorder may send to whatever they
    resolve to (the administrator trusts their DNS)."""

    @classmethod
    def build(cls, networks: Iterable[IPNetwork], hosts: Iterable[str]) -> EgressPolicy:
        return cls(tuple(networks), frozenset(h.lower().rstrip(".") for h in hosts))

    def host_allowed(self, host: str, port: int | None) -> bool:
        """True when the administrator allows this host (or this host and port) by name."""
        name = host.lower().rstrip(".")
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]
        spelled = f"[{name}]" if ":" in name else name
        return name in self.allow_hosts or (
            port is not None and f"{spelled}:{port}" in self.allow_hosts
        )

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused under this policy, or None when it may be used."""
        reason = refusal_reason(address)
        if reason is None:
            return None
        candidates: list[IPAddress] = [address]
        if isinstance(address, IPv6Address):
            inner = embedded_ipv4(address)
            if inner is not None:
                candidates.append(inner)
        for candidate in candidates:
            if any(candidate.version == n.version and candidate in n for n in self.allow_networks):
                return None
        return reason
