"""URL paths of §3."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cloudrec_protocol.enums import Mode
from cloudrec_protocol.paths import (
    QUERY_TEMPLATE,
    acquire_path,
    query_path,
    start_path,
    stop_path,
    update_layout_path,
    update_path,
)

BASE = "/v1/apps/app1/cloud_recording"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (acquire_path("app1"), f"{BASE}/acquire"),
        (start_path("app1", "rid", Mode.MIX), f"{BASE}/resourceid/rid/mode/mix/start"),
        (start_path("app1", "rid", "individual"), f"{BASE}/resourceid/rid/mode/individual/start"),
        (query_path("app1", "rid", "sid", "mix"), f"{BASE}/resourceid/rid/sid/sid/mode/mix/query"),
        (
            update_path("app1", "rid", "sid", "web"),
            f"{BASE}/resourceid/rid/sid/sid/mode/web/update",
        ),
        (stop_path("app1", "rid", "sid", Mode.MIX), f"{BASE}/resourceid/rid/sid/sid/mode/mix/stop"),
        (
            update_layout_path("app1", "rid", "sid"),
            f"{BASE}/resourceid/rid/sid/sid/mode/mix/updateLayout",
        ),
    ],
)
def test_paths_are_exactly_those_of_the_protocol(path: str, expected: str) -> None:
    assert path == expected


def test_path_values_are_encoded_as_single_segments() -> None:
    assert query_path("a/b", "r d", "s?", "mix") == (
        "/v1/apps/a%2Fb/cloud_recording/resourceid/r%20d/sid/s%3F/mode/mix/query"
    )


@pytest.mark.parametrize(
    "call",
    [lambda: start_path("app", "rid", "composite"), lambda: query_path("app", "", "sid", "mix")],
    ids=["unknown-mode", "empty-resource-id"],
)
def test_bad_path_values_are_refused(call: Callable[[], str]) -> None:
    with pytest.raises(ValueError):
        call()


def test_templates_carry_router_placeholders() -> None:
    assert QUERY_TEMPLATE == (
        "/v1/apps/{appid}/cloud_recording/resourceid/{resourceid}/sid/{sid}/mode/{mode}/query"
    )
