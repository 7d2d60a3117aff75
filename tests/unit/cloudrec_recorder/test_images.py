"""Which background picture URLs and addresses the recorder fetches from (pure rules)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from cloudrec_protocol.models import LayoutSettings
from cloudrec_recorder.backgrounds import layout_refusal, layout_urls
from cloudrec_recorder.images import address_refusal, describe_url, url_refusal
from cloudrec_recorder.settings import BackgroundImageSettings

ALLOWING = BackgroundImageSettings(allowed_hosts=["img.example.com", "*.cdn.example.net"])


@pytest.mark.parametrize(
    ("settings", "url", "reason"),
    [
        (BackgroundImageSettings(), "https://img.example.com/a.jpg", "not allowed on this"),
        (ALLOWING, "https://img.example.com/a.jpg", None),
        (ALLOWING, "http://IMG.example.com:8080/a.png?sig=1", None),
        (ALLOWING, "https://eu.cdn.example.net/a.jpg", None),
        (ALLOWING, "https://cdn.example.net/a.jpg", "host cdn.example.net is not one"),
        (ALLOWING, "https://evil.example.org/a.jpg", "host evil.example.org is not one"),
        (ALLOWING, "https://img.example.com.evil.org/a.jpg", "is not one"),
        (ALLOWING, "ftp://img.example.com/a.jpg", "only http:// and https://"),
        (ALLOWING, "file:///etc/passwd", "only http:// and https://"),
        (ALLOWING, "img.example.com/a.jpg", "only http:// and https://"),
    ],
    ids=[
        "no-hosts-allowed",
        "allowed-host",
        "case-and-port",
        "wildcard-subdomain",
        "wildcard-is-not-the-parent",
        "other-host",
        "suffix-trick",
        "ftp",
        "file",
        "no-scheme",
    ],
)
def test_a_picture_url_is_fetched_only_over_http_from_an_allowed_host(
    settings: BackgroundImageSettings, url: str, reason: str | None
) -> None:
    refusal = url_refusal(url, settings)
    if reason is None:
        assert refusal is None
    else:
        assert refusal is not None and reason in refusal


@pytest.mark.parametrize(
    ("address", "allowed", "kind"),
    [
        ("93.184.216.34", [], None),
        ("127.0.0.1", [], "loopback"),
        ("::1", [], "loopback"),
        ("::ffff:127.0.0.1", [], "loopback"),
        ("169.254.169.254", [], "cloud metadata"),
        ("169.254.1.1", [], "link-local"),
        ("64:ff9b::a9fe:a9fe", [], "cloud metadata"),
        ("10.1.2.3", [], "private"),
        ("192.168.0.9", [], "private"),
        ("fd00::1", [], "private"),
        ("0.0.0.0", [], "unspecified"),
        ("100.64.0.1", [], "not publicly routable"),
        ("224.0.0.1", [], "multicast"),
        ("127.0.0.1", ["127.0.0.0/8"], None),
        ("10.1.2.3", ["10.1.0.0/16"], None),
        ("10.2.0.1", ["10.1.0.0/16"], "private"),
        ("::ffff:10.1.2.3", ["10.1.0.0/16"], None),
    ],
)
def test_non_public_addresses_are_refused_unless_their_network_is_allowed(
    address: str, allowed: list[str], kind: str | None
) -> None:
    settings = BackgroundImageSettings(allowed_hosts=["x"], allowed_networks=allowed)  # type: ignore[arg-type]
    refusal = address_refusal(ipaddress.ip_address(address), settings)
    if kind is None:
        assert refusal is None
    else:
        assert refusal is not None and kind in refusal and "allowedNetworks" in refusal


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://user:pw@img.example.com/a/b.jpg?X-Amz-Signature=s3cr3t",
            "https://img.example.com/a/b.jpg",
        ),
        ("http://img.example.com:8080/a.jpg#frag", "http://img.example.com:8080/a.jpg"),
        ("::::", "(not a URL)"),
    ],
)
def test_a_url_is_described_without_its_user_info_or_query(url: str, shown: str) -> None:
    assert describe_url(url) == shown


def _layout(**fields: Any) -> LayoutSettings:
    return LayoutSettings.model_validate(fields)


def test_every_picture_a_layout_names_is_checked_with_its_field() -> None:
    layout = _layout(
        backgroundImage="https://img.example.com/canvas.jpg",
        defaultUserBackgroundImage="https://img.example.com/user.png",
        backgroundConfig=[
            {"uid": "1", "image_url": "https://img.example.com/1.jpg"},
            {"uid": "2", "image_url": "https://other.example.org/2.jpg", "render_mode": 1},
        ],
    )
    assert [field for field, _ in layout_urls(layout)] == [
        "backgroundImage",
        "defaultUserBackgroundImage",
        "backgroundConfig[0].image_url",
        "backgroundConfig[1].image_url",
    ]
    refusal = layout_refusal(layout, ALLOWING, "clientRequest")
    assert refusal is not None
    assert refusal.startswith("clientRequest.backgroundConfig[1].image_url: host other.example.org")
    assert (
        layout_refusal(_layout(backgroundColor="#FF0000"), BackgroundImageSettings(), "x") is None
    )
    refusal = layout_refusal(layout, BackgroundImageSettings(), "clientRequest")
    assert refusal is not None and refusal.startswith("clientRequest.backgroundImage: background")
