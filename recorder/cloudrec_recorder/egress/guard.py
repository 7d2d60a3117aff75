"""The egress guard: checks a tenant's URL before use and every address at connect time.

Two checks, because a host name may resolve differently each time (DNS rebinding):

* :meth:`EgressGuard.check_url` at ``start``: an address literal (any form) is classified
  at once; a host name is resolved and every address it resolves to must be allowed. The
  refusal is an :class:`EgressRefusedError` naming the field, the host, the address and
  the reason (the API answers 400 / code 2 with it). A name that does not resolve now is
  not refused here: every connection is checked anyway.
* :meth:`EgressGuard.socket_factory` for aiohttp (aiobotocore's ``connector_args``): it is
  called with each address the connector is about to connect to, after resolution, for
  every new connection, so the address checked is the address used.

A host the administrator allows by name (``egress.allowHosts``) skips both checks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from cloudrec_recorder.egress.addresses import EgressPolicy, IPAddress, parse_ip_literal
from cloudrec_recorder.settings import EgressSettings

log = logging.getLogger(__name__)

__all__ = ["EgressGuard", "EgressRefusedError", "SocketFactory", "refusal_in"]

SocketFactory = Callable[[tuple[Any, ...]], socket.socket]
"""aiohttp's ``socket_factory``: ``(family, type, proto, canonname, sockaddr) -> socket``."""

ALLOW_HINT = (
    "the recorder sends nothing to loopback, link-local, private or metadata addresses "
    "unless its settings allow them (egress.allowCidrs, egress.allowHosts)"
)


class EgressRefusedError(OSError):
    """The recorder must not connect there; ``str()`` names the field, address and reason."""


def refusal_in(error: BaseException) -> EgressRefusedError | None:
    """The guard's refusal behind a client library's connection error, if that is the cause."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, EgressRefusedError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _address_of(sockaddr_host: str) -> IPAddress:
    return ipaddress.ip_address(sockaddr_host.partition("%")[0])


class EgressGuard:
    """Applies an :class:`EgressPolicy` to URLs and connections."""

    def __init__(self, policy: EgressPolicy, *, resolve_timeout: float = 5.0) -> None:
        self.policy = policy
        self.resolve_timeout = resolve_timeout

    @classmethod
    def from_settings(cls, settings: EgressSettings) -> EgressGuard:
        """The guard the recorder settings' ``egress`` section describes."""
        return cls(EgressPolicy.build(settings.allow_cidrs, settings.allow_hosts))

    async def check_url(self, url: str, field: str) -> None:
        """Raise :class:`EgressRefusedError` when ``url``'s host is not allowed."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.policy.host_allowed(host, port):
            return
        literal = parse_ip_literal(host)
        if literal is not None:
            reason = self.policy.refusal(literal)
            if reason is not None:
                raise EgressRefusedError(f"{field}: {host} is a {reason} ({literal}); {ALLOW_HINT}")
            return
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), self.resolve_timeout
            )
        except (OSError, TimeoutError, UnicodeError):
            return  # not resolvable now; each connection is checked when it is made
        for *_, sockaddr in infos:
            address = _address_of(str(sockaddr[0]))
            reason = self.policy.refusal(address)
            if reason is not None:
                raise EgressRefusedError(
                    f"{field}: host {host} resolves to {address}, a {reason}; {ALLOW_HINT}"
                )

    def socket_factory(self, host: str, port: int | None) -> SocketFactory | None:
        """The connect-time check for connections to ``host`` (None: allowed by name)."""
        if self.policy.host_allowed(host, port):
            return None
        policy = self.policy

        def make_socket(addr_info: tuple[Any, ...]) -> socket.socket:
            family, type_, proto, _, sockaddr = addr_info
            address = _address_of(str(sockaddr[0]))
            reason = policy.refusal(address)
            if reason is not None:
                log.warning("Egress refused host=%s address=%s reason=%s", host, address, reason)
                # One text per host and reason (no address), so a connector that tried several
                # addresses re-raises this error rather than a "Multiple exceptions" summary.
                raise EgressRefusedError(
                    f"connection to {host} refused: it resolves to a {reason}; {ALLOW_HINT}"
                )
            return socket.socket(family=family, type=type_, proto=proto)

        return make_socket

    def socket_factory_for_url(self, url: str) -> SocketFactory | None:
        parts = urlsplit(url)
        return self.socket_factory(
            parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        )
