"""The RTP-forwarder decisions: request bodies, SDPs, PLIs, when to ask for a keyframe, and one
timeline per track across receivers."""

from __future__ import annotations

import struct

import pytest

from cloudrec_recorder.channel.errors import ADMIN_KEY_SETTING, error_for, forward_refusal
from cloudrec_recorder.channel.forward import (
    AUDIO_PAYLOAD_TYPE,
    VIDEO_PAYLOAD_TYPE,
    ForwardedStream,
    Forwarder,
    KeyframePolicy,
    TimestampStitcher,
    UnsupportedCodecError,
    forward_request,
    forwarders_made,
    pli_packet,
    stop_forward_request,
    stream_sdp,
    substream_ports,
    wake_packets,
)

VIDEO = ForwardedStream(mid="0", kind="video", codec="vp8", port=40000)
AUDIO = ForwardedStream(mid="1", kind="audio", codec="opus", port=40002)


def test_a_forward_request_rewrites_payload_types_and_gives_video_an_rtcp_port() -> None:
    body = forward_request("room", "1001", "10.0.0.5", [VIDEO, AUDIO], discard_port=9)
    assert body == {
        "request": "rtp_forward",
        "room": "room",
        "publisher_id": "1001",
        "host": "10.0.0.5",
        "streams": [
            {"mid": "0", "pt": VIDEO_PAYLOAD_TYPE, "rtcp_port": 40001, "port": 40000},
            {"mid": "1", "pt": AUDIO_PAYLOAD_TYPE, "port": 40002},
        ],
    }


def test_the_admin_key_is_sent_only_when_there_is_one() -> None:
    body = forward_request(1, 2, "h", [AUDIO], discard_port=9, admin_key="k")
    assert body["admin_key"] == "k"
    assert stop_forward_request(1, 2, 77) == {
        "request": "stop_rtp_forward",
        "room": 1,
        "publisher_id": 2,
        "stream_id": 77,
    }
    assert stop_forward_request(1, 2, 77, admin_key="k")["admin_key"] == "k"


@pytest.mark.parametrize(
    ("substream", "ports"),
    [
        (None, {"port": 5000, "simulcast": True}),
        (2, {"port": 5000, "simulcast": True}),
        (0, {"port": 5000}),
        (1, {"port": 9, "port_2": 5000}),
    ],
)
def test_a_simulcast_forwarder_delivers_the_wanted_substream_to_the_port(
    substream: int | None, ports: dict[str, object]
) -> None:
    assert substream_ports(5000, substream, 9) == ports


def test_a_substream_outside_0_to_2_is_refused() -> None:
    with pytest.raises(ValueError, match="0, 1 or 2"):
        substream_ports(5000, 3, 9)


def test_a_simulcast_video_stream_carries_its_substream_ports_in_the_request() -> None:
    stream = ForwardedStream(
        mid="0", kind="video", codec="vp8", port=40000, simulcast=True, substream=0
    )
    (entry,) = forward_request("r", "p", "h", [stream], discard_port=9)["streams"]
    assert entry == {"mid": "0", "pt": VIDEO_PAYLOAD_TYPE, "rtcp_port": 40001, "port": 40000}


@pytest.mark.parametrize(
    ("stream", "lines"),
    [
        (VIDEO, ["m=video 40000 RTP/AVP 96", "a=rtpmap:96 VP8/90000"]),
        (AUDIO, ["m=audio 40002 RTP/AVP 111", "a=rtpmap:111 opus/48000/2"]),
        (
            ForwardedStream(mid="0", kind="video", codec="h264", port=4),
            ["a=rtpmap:96 H264/90000", "a=fmtp:96 packetization-mode=1"],
        ),
    ],
)
def test_the_sdp_names_the_port_codec_and_payload_type(
    stream: ForwardedStream, lines: list[str]
) -> None:
    sdp = stream_sdp(stream, "10.0.0.5")
    assert "c=IN IP4 10.0.0.5" in sdp.splitlines()
    for line in lines:
        assert line in sdp.splitlines()
    assert sdp.endswith("\r\n")


def test_an_ipv6_media_address_gives_an_ipv6_sdp() -> None:
    assert "c=IN IP6 fd00::5" in stream_sdp(AUDIO, "fd00::5").splitlines()


def test_a_codec_without_a_depacketiser_is_refused_naming_it() -> None:
    with pytest.raises(UnsupportedCodecError, match="av1"):
        stream_sdp(ForwardedStream(mid="0", kind="video", codec="av1", port=4), "h")


def test_the_forwarders_made_are_read_from_janus_answer() -> None:
    data = {
        "forwarders": [
            {"stream_id": 7, "type": "video", "port": 40000, "local_rtcp_port": 51000},
            {"stream_id": 8, "type": "audio", "port": 40002},
            {"type": "data", "port": 1},
        ]
    }
    assert forwarders_made(data) == [Forwarder(7, 40000, 51000), Forwarder(8, 40002, 0)]


def test_a_pli_is_a_payload_specific_feedback_message_of_format_1() -> None:
    packet = pli_packet(sender_ssrc=5, media_ssrc=6)
    assert struct.unpack("!BBHII", packet) == (0x81, 206, 2, 5, 6)


@pytest.mark.parametrize(
    ("stream", "per_run"),
    [
        (VIDEO, 2),
        (AUDIO, 2),
        (ForwardedStream(mid="0", kind="video", codec="H264", port=40000), 5),
        (ForwardedStream(mid="0", kind="video", codec="vp9", port=40000), 2),
    ],
)
def test_wake_packets_go_twice_half_the_sequence_space_apart_with_the_marker_and_payload_type(
    stream: ForwardedStream, per_run: int
) -> None:
    packets = wake_packets(stream)
    headers = [struct.unpack("!BBHII", p[:12]) for p in packets]
    pt = VIDEO_PAYLOAD_TYPE if stream.kind == "video" else AUDIO_PAYLOAD_TYPE
    assert [h[0] for h in headers] == [0x80] * 2 * per_run
    assert {h[1] for h in headers} == {0x80 | pt}
    assert [h[2] for h in headers] == [*range(per_run), *range(0x8000, 0x8000 + per_run)]
    # each is longer than the open's probesize (32 bytes), so a waiting open returns too
    assert all(len(p) - 12 > 32 for p in packets)


def test_no_wake_packets_for_a_codec_that_cannot_be_received() -> None:
    with pytest.raises(UnsupportedCodecError, match="AV1"):
        wake_packets(ForwardedStream(mid="0", kind="video", codec="AV1", port=40000))


@pytest.mark.parametrize(
    ("events", "now", "damaged", "due"),
    [
        ([], 0.0, False, True),  # nothing yet: ask at once
        ([("sent", 0.0)], 0.1, False, False),  # not more often than min_interval
        ([("sent", 0.0)], 0.6, False, True),  # still nothing: ask again
        ([("sent", 0.0)], 0.2, True, False),  # even damaged: min_interval
        ([("sent", 0.0), ("frame", 0.5)], 0.6, False, False),  # frames flow
        ([("sent", 0.0), ("frame", 0.5)], 0.6, True, True),  # a damaged frame
        ([("sent", 0.0), ("frame", 0.5)], 1.0, False, True),  # stalled
        ([("sent", 0.0), ("frame", 0.5), ("sent", 9.0)], 10.0, False, False),  # long stall
        ([("sent", 0.0), ("frame", 0.5), ("sent", 9.0)], 14.1, False, True),
    ],
)
def test_a_keyframe_is_asked_for_when_the_policy_says(
    events: list[tuple[str, float]], now: float, damaged: bool, due: bool
) -> None:
    policy = KeyframePolicy()
    policy.due(0.0)  # the receiver started at 0
    for event, at in events:
        policy.sent(at) if event == "sent" else policy.frame(at)
    assert policy.due(now, damaged=damaged) is due


def test_a_later_receiver_continues_the_timeline_by_the_wall_time_elapsed() -> None:
    stitcher = TimestampStitcher(90_000)
    assert stitcher.map(1, 5000, 0.0) == 0
    assert stitcher.map(1, 8000, 0.033) == 3000
    # a substream switch: the new forwarder's RTP times start anywhere
    assert stitcher.map(2, 123_456_789, 0.533) == 3000 + 45_000
    assert stitcher.map(2, 123_456_789 + 6000, 0.6) == 3000 + 45_000 + 6000


def test_times_never_go_backwards() -> None:
    stitcher = TimestampStitcher(48_000)
    stitcher.map(1, 1000, 0.0)
    assert stitcher.map(1, 500, 0.1) == 1


@pytest.mark.parametrize(
    ("code", "reason", "key_given", "says"),
    [
        (433, "Unauthorized (wrong admin_key)", True, "is not the VideoRoom's admin_key"),
        (429, "Missing mandatory element (admin_key)", False, "sets lock_rtp_forward"),
        (426, "No such room", False, None),
        (429, "Missing mandatory element (room)", False, None),
    ],
)
def test_an_rtp_forward_refused_for_the_admin_key_is_an_error_naming_the_setting(
    code: int, reason: str, key_given: bool, says: str | None
) -> None:
    refusal = forward_refusal(error_for(code, reason), key_given=key_given)
    if says is None:
        assert refusal is None
        return
    assert refusal is not None
    assert ADMIN_KEY_SETTING in str(refusal) and says in str(refusal)
    assert refusal.code == code
