"""Fetching a mix's background pictures from the URLs a request names, safely.

A picture URL comes from whoever may call the API, and the recorder fetches it from inside
the cluster; so the recorder fetches only what its administrator allows
(:class:`~cloudrec_recorder.settings.BackgroundImageSettings`):

* :func:`url_refusal` (pure, at ``start`` / ``updateLayout``): HTTP or HTTPS only, from a host
  in ``backgroundImages.allowedHosts`` (by default none, so every picture is refused). The API
  answers 400 / code 2 with the reason and the field.
* :func:`address_refusal` (pure, at fetch time, for every address the host resolves to):
  loopback, link-local, private and other non-public addresses only where
  ``backgroundImages.allowedNetworks`` allows them. The connection goes to the address that
  was checked (the host name is kept for ``Host`` and TLS), so DNS cannot swap it afterwards.
* :func:`fetch_picture`: one ``GET``, no redirects, no proxies from the environment, at most
  ``maxBytes`` (longer bodies are cut off, not read), within ``timeoutSeconds``.

Every refusal and failure is a :class:`PictureUnavailableError` whose message never quotes the
URL's query or user info (a signed URL carries a secret there): :func:`describe_url` is what
logs and events show.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import socket
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address

import httpx

from cloudrec_recorder.egress.addresses import embedded_ipv4, refusal_reason
from cloudrec_recorder.settings import BackgroundImageSettings
from cloudrec_recorder.tls import tls_context

__all__ = [
    "PictureUnavailableError",
    "address_refusal",
    "describe_url",
    "fetch_picture",
    "url_refusal",
]

NOT_ALLOWED = (
    "background images are not allowed on this recorder (its backgroundImages.allowedHosts"
    " setting is empty)"
)
MAX_DESCRIBED = 120


class PictureUnavailableError(Exception):
    """The picture cannot be shown; the message says why (without secrets)."""


def describe_url(url: str) -> str:
    """``scheme://host[:port]/path`` of ``url`` (no user info, no query), shortened."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "(not a URL)"
    port = f":{parsed.port}" if parsed.port else ""
    text = f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"
    return text if len(text) <= MAX_DESCRIBED else text[: MAX_DESCRIBED - 3] + "..."


def _host_allowed(host: str, allowed: Sequence[str]) -> bool:
    name = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(name, pattern.lower().rstrip(".")) for pattern in allowed)


def url_refusal(url: str, settings: BackgroundImageSettings) -> str | None:
    """Why a request may not name picture ``url`` (None: it may)."""
    if not settings.allowed_hosts:
        return NOT_ALLOWED
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "not a valid URL"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "only http:// and https:// URLs are fetched"
    if not _host_allowed(parsed.host, settings.allowed_hosts):
        return (
            f"host {parsed.host} is not one the recorder may fetch images from"
            " (backgroundImages.allowedHosts)"
        )
    return None


IPAddress = IPv4Address | IPv6Address


def address_refusal(address: IPAddress, settings: BackgroundImageSettings) -> str | None:
    """Why the recorder may not fetch a picture from ``address`` (None: it may).

    The kinds of address are the egress guard's (:func:`~cloudrec_recorder.egress.addresses.
    refusal_reason`: loopback, link-local, private, cloud metadata, reserved, also inside IPv6
    forms); a non-public address passes only inside ``backgroundImages.allowedNetworks``.
    """
    candidates: list[IPAddress] = [address]
    if isinstance(address, IPv6Address) and (inner := embedded_ipv4(address)) is not None:
        candidates.append(inner)
    for candidate in candidates:
        for net in settings.allowed_networks:
            if candidate.version == net.version and candidate in net:
                return None
    reason = refusal_reason(address)
    if reason is None:
        return None
    return f"{address} is a {reason} (backgroundImages.allowedNetworks)"


async def _checked_address(host: str, port: int, settings: BackgroundImageSettings) -> IPAddress:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise PictureUnavailableError(f"host {host} does not resolve: {exc}") from None
    addresses = list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos)
    )
    for address in addresses:
        reason = address_refusal(address, settings)
        if reason is not None:
            raise PictureUnavailableError(f"host {host}: {reason}")
    if not addresses:
        raise PictureUnavailableError(f"host {host} has no address")
    return addresses[0]


async def _download(url: str, settings: BackgroundImageSettings) -> bytes:
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    address = await _checked_address(parsed.host, port, settings)
    pinned = parsed.copy_with(host=str(address))
    headers = {
        "Host": parsed.netloc.decode("ascii"),
        "Accept": "image/jpeg, image/png, image/bmp",
        "Accept-Encoding": "identity",
    }
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    limit = settings.max_bytes
    async with (
        httpx.AsyncClient(
            trust_env=False, follow_redirects=False, verify=tls_context(), timeout=None
        ) as client,
        client.stream("GET", pinned, headers=headers, extensions=extensions) as response,
    ):
        if response.status_code != 200:
            raise PictureUnavailableError(f"the server answered HTTP {response.status_code}")
        if response.headers.get("Content-Encoding", "identity").lower() != "identity":
            raise PictureUnavailableError("the picture came compressed (Content-Encoding)")
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PictureUnavailableError(f"the picture is {declared} bytes, over {limit}")
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > limit:
                raise PictureUnavailableError(f"the picture is over {limit} bytes")
        return bytes(body)


async def fetch_picture(url: str, settings: BackgroundImageSettings) -> bytes:
    """The bytes of picture ``url``; :class:`PictureUnavailableError` says why not."""
    reason = url_refusal(url, settings)
    if reason is not None:
        raise PictureUnavailableError(reason)
    try:
        async with asyncio.timeout(settings.timeout_seconds):
            return await _download(url, settings)
    except TimeoutError:
        raise PictureUnavailableError(
            f"the picture did not arrive within {settings.timeout_seconds:g} s"
        ) from None
    except httpx.HTTPError as exc:
        raise PictureUnavailableError(f"fetching failed: {type(exc).__name__}") from None
