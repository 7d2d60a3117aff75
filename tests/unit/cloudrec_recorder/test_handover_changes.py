"""What a moved recording takes along besides its start request (handover.py's ``Changes``,
later_changes.py), and what a taker that never took does with its files (taking.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from cloudrec_protocol.models import LayoutSettings, StreamSubscribe
from cloudrec_recorder.handover import Changes, GiverDone, GiverMarks, Offer
from cloudrec_recorder.later_changes import apply_changes
from cloudrec_recorder.ports import MediaParts
from cloudrec_recorder.taking import Taking

SID = "0123456789abcdef0123456789abcdef"
SUBSCRIBE = StreamSubscribe.model_validate(
    {"videoUidList": {"unSubscribeVideoUids": ["1002"]}, "audioUidList": {}}
)
LAYOUT = LayoutSettings.model_validate({"mixedVideoLayout": 2, "backgroundColor": "#112233"})


def offer(**fields: object) -> Offer:
    wire = {
        "sid": SID,
        "resourceId": "rid",
        "cname": "room",
        "uid": "900",
        "mode": "mix",
        "clientRequest": {},
        "expiredHour": 24,
        "giver": "ra",
        "takerUid": "3000000000",
        "originEpochMs": 1,
        "firstFrameMs": 1,
        **fields,
    }
    return Offer.model_validate(wire)


def test_the_layout_and_subscription_in_force_go_along_with_an_offer_and_come_back_the_same() -> (
    None
):
    carried = offer(changes=Changes.of(LAYOUT, SUBSCRIBE).to_wire())
    assert carried.changes.parsed() == (LAYOUT, SUBSCRIBE)
    assert Offer.model_validate(carried.to_wire()) == carried


def test_an_offer_without_changes_is_the_start_request_alone() -> None:
    assert offer().changes.parsed() == (None, None)


def test_a_poll_and_a_done_carry_changes_only_when_given() -> None:
    assert GiverMarks().changes is None and GiverDone().changes is None
    poll = GiverMarks.model_validate({"changes": {"subscribe": SUBSCRIBE.to_wire()}})
    assert poll.changes is not None and poll.changes.parsed() == (None, SUBSCRIBE)


@dataclass
class Recording:
    sid: str = SID
    layout: LayoutSettings | None = None
    subscribe: StreamSubscribe | None = None
    calls: list[str] = field(default_factory=list)
    refuse: bool = False

    async def update_layout(self, layout: LayoutSettings) -> None:
        if self.refuse:
            raise ValueError("not this layout")
        self.calls.append("layout")
        self.layout = layout

    async def update(self, subscribe: StreamSubscribe) -> None:
        self.calls.append("subscribe")
        self.subscribe = subscribe


async def test_a_taker_applies_what_differs_from_what_it_has_and_nothing_twice() -> None:
    recording = Recording()
    await apply_changes(recording, Changes.of(LAYOUT, SUBSCRIBE))
    await apply_changes(recording, Changes.of(LAYOUT, SUBSCRIBE))
    assert recording.calls == ["layout", "subscribe"]
    assert (recording.layout, recording.subscribe) == (LAYOUT, SUBSCRIBE)


async def test_a_change_the_taker_cannot_apply_is_logged_and_the_recording_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recording = Recording(refuse=True)
    await apply_changes(recording, Changes.of(LAYOUT, None))
    assert recording.layout is None and "not applied" in caplog.text


async def test_a_taking_the_giver_gave_up_on_is_abandoned_at_once() -> None:
    abandoned: list[bool] = []
    taking = Taking(offer(), here="rb", margin=1.5, failed=True)
    taking.on_abandoned = lambda: abandoned.append(True)
    await taking.settle(MediaParts(pipeline=None), within=30.0)  # type: ignore[arg-type]
    assert abandoned == [True]


async def test_a_taking_stopped_before_the_giver_is_done_waits_then_is_abandoned() -> None:
    abandoned: list[bool] = []
    taking = Taking(offer(), here="rb", margin=1.5)
    taking.on_abandoned = lambda: abandoned.append(True)
    await taking.settle(MediaParts(pipeline=None), within=0.05)  # type: ignore[arg-type]
    assert abandoned == [True]


async def test_a_taking_the_giver_finished_delivers_as_its_own() -> None:
    abandoned: list[bool] = []
    taking = Taking(offer(), here="rb", margin=1.5)
    taking.on_abandoned = lambda: abandoned.append(True)
    asyncio.get_running_loop().call_later(0.01, taking.released.set)
    await taking.settle(MediaParts(pipeline=None), within=5.0)  # type: ignore[arg-type]
    assert abandoned == []
