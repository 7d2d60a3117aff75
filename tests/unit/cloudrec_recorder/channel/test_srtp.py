"""SRTP for the forwarders: keys, the SDP's ``a=crypto`` line, the request's suite and key, and
the SRTCP BYE that wakes an SRTP receiver (checked against libsrtp, which Janus uses)."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pylibsrtp
import pytest

from cloudrec_recorder.channel.errors import JanusApiError
from cloudrec_recorder.channel.feed import ForwardTarget, SubscribedFeed
from cloudrec_recorder.channel.forward import (
    ForwardedStream,
    forward_request,
    stream_sdp,
    wake_packets,
)
from cloudrec_recorder.channel.srtp import SrtpKey, new_key, protected_bye

KEY = SrtpKey(bytes(range(30)))
VIDEO = ForwardedStream(mid="0", kind="video", codec="vp8", port=40000, srtp=KEY)
AUDIO = ForwardedStream(mid="1", kind="audio", codec="opus", port=40002, srtp=new_key())


def test_every_key_is_30_fresh_random_bytes_in_base64() -> None:
    keys = [new_key() for _ in range(50)]
    assert len({key.material for key in keys}) == 50
    assert all(len(base64.b64decode(key.inline)) == 30 for key in keys)
    with pytest.raises(ValueError, match="30 bytes"):
        SrtpKey(bytes(16))


def test_a_key_never_shows_in_repr_or_str_nor_does_a_stream_holding_one() -> None:
    for text in (repr(KEY), str(KEY), repr(VIDEO), str(VIDEO), repr(forward_request)):
        assert KEY.inline not in text
        assert str(KEY.material) not in text


def test_an_srtp_streams_sdp_is_savp_with_its_key_in_a_crypto_line() -> None:
    lines = stream_sdp(VIDEO, "10.0.0.5").splitlines()
    assert "m=video 40000 RTP/SAVP 96" in lines
    assert f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY.inline}" in lines
    plain = stream_sdp(ForwardedStream(mid="0", kind="video", codec="vp8", port=40000), "h")
    assert "m=video 40000 RTP/AVP 96" in plain.splitlines()
    assert "crypto" not in plain


def test_an_srtp_forward_request_names_the_suite_and_the_streams_key() -> None:
    body = forward_request("room", "1001", "10.0.0.5", [VIDEO], discard_port=9)
    assert body["srtp_suite"] == 80
    assert body["srtp_crypto"] == KEY.inline
    plain = forward_request(
        "room", "1001", "h", [ForwardedStream("0", "video", "vp8", 4)], discard_port=9
    )
    assert "srtp_suite" not in plain and "srtp_crypto" not in plain


def test_janus_takes_one_key_per_request_so_an_srtp_request_holds_one_stream() -> None:
    with pytest.raises(ValueError, match="one stream"):
        forward_request("room", "1001", "h", [VIDEO, AUDIO], discard_port=9)


def test_the_wake_of_an_srtp_stream_is_an_srtcp_bye_that_libsrtp_authenticates() -> None:
    packets = wake_packets(VIDEO)
    session = pylibsrtp.Session(
        pylibsrtp.Policy(key=KEY.material, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND)
    )
    for packet in packets:
        clear = session.unprotect_rtcp(packet)
        version, packet_type, words = struct.unpack("!BBH", clear[:4])
        assert (version, packet_type) == (0x81, 203)  # one source, BYE
        assert len(clear) == 4 * (words + 1) >= 12  # libavformat drops shorter packets
    assert packets[0] != packets[1]  # SRTCP indexes 0 and 1


def test_an_srtcp_bye_under_another_key_does_not_authenticate() -> None:
    session = pylibsrtp.Session(
        pylibsrtp.Policy(key=KEY.material, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND)
    )
    with pytest.raises(pylibsrtp.Error):
        session.unprotect_rtcp(protected_bye(new_key(), 5, 0))


class RefusingHandle:
    """A VideoRoom handle whose ``rtp_forward`` Janus refuses quoting the key, as Janus'
    ``Invalid SRTP crypto (%s)`` does."""

    async def message(self, body: dict[str, Any]) -> tuple[dict[str, Any], None]:
        raise JanusApiError(456, f"Invalid SRTP crypto ({body['srtp_crypto']})")


async def test_a_janus_error_quoting_the_srtp_key_is_raised_without_it() -> None:
    feed = SubscribedFeed("1001")
    feed._target = ForwardTarget("127.0.0.1", "127.0.0.1", "room", "1001", srtp=True)
    feed._handle = RefusingHandle()  # type: ignore[assignment]
    with pytest.raises(JanusApiError) as raised:
        await feed._forward([VIDEO])
    assert KEY.inline not in str(raised.value) and KEY.inline not in repr(raised.value.args)
    assert raised.value.__cause__ is None and raised.value.__context__ is None
    assert "<srtp key>" in str(raised.value)
