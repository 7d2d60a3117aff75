"""SRTP for Janus' RTP forwarders (issue 13): the keys and the one packet the recorder protects.

Janus encrypts a forwarder's packets when ``rtp_forward`` names an SRTP suite and an SDES key
(:func:`~.forward.forward_request`); libavformat decrypts them when the stream's SDP carries the
same key in an ``a=crypto`` line (:func:`~.forward.stream_sdp`). Each forwarder gets a fresh
random key, made here and never written anywhere but the request to Janus and the SDP, which is
handed to libavformat in memory.

libavformat authenticates every packet (HMAC-SHA1, 80 bits) and drops the ones that fail, so
the receiver's own wake packets must be protected too: :func:`protected_bye` is an RTCP BYE
encrypted as SRTCP (RFC 3711 §3.4), which ends libavformat's read with end-of-stream. SRTCP
carries its index in the packet, so it authenticates whatever rollover counter the receiver
has reached (an SRTP wake packet would have to guess it).

Pure (no I/O); :class:`SrtpKey` never shows its bytes in ``repr`` or ``str``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "JANUS_SRTP_SUITE",
    "SDES_SUITE",
    "SrtpKey",
    "new_key",
    "protected_bye",
]

SDES_SUITE = "AES_CM_128_HMAC_SHA1_80"
"""The crypto suite of every forwarder: AES-128 counter mode, an 80-bit HMAC-SHA1 tag."""
JANUS_SRTP_SUITE = 80
"""How ``rtp_forward``'s ``srtp_suite`` names :data:`SDES_SUITE` (the tag length in bits)."""

_KEY_BYTES = 16
_SALT_BYTES = 14
_TAG_BYTES = 10
_LABEL_RTCP_ENCRYPTION = 3
_LABEL_RTCP_AUTH = 4
_LABEL_RTCP_SALT = 5
_AUTH_KEY_BYTES = 20
_SRTCP_ENCRYPTED = 0x8000_0000
_RTCP_VERSION_ONE_SOURCE = 0x81
_RTCP_BYE = 203
_BYE_REASON = b"stop"


@dataclass(frozen=True)
class SrtpKey:
    """An SRTP master key and salt (30 bytes); its bytes never show in ``repr``."""

    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != _KEY_BYTES + _SALT_BYTES:
            raise ValueError("an SRTP master key and salt are 30 bytes")

    @property
    def inline(self) -> str:
        """The key and salt in base64, as SDES (``inline:``) and Janus' ``srtp_crypto`` take."""
        return base64.b64encode(self.material).decode()

    def __str__(self) -> str:
        return "SrtpKey(hidden)"


def new_key() -> SrtpKey:
    """A fresh random master key and salt."""
    return SrtpKey(secrets.token_bytes(_KEY_BYTES + _SALT_BYTES))


def _aes_cm(key: bytes, iv: bytes, length: int) -> bytes:
    """``length`` bytes of AES counter-mode keystream from ``iv``."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return encryptor.update(bytes(length)) + encryptor.finalize()


def _derive(key: SrtpKey, label: int, length: int) -> bytes:
    """A session key (RFC 3711 §4.3.1, key derivation rate 0)."""
    master_key, master_salt = key.material[:_KEY_BYTES], key.material[_KEY_BYTES:]
    x = bytearray(master_salt)
    x[7] ^= label  # key_id = label || index DIV kdr (0), aligned with the salt's end
    return _aes_cm(master_key, bytes(x) + b"\x00\x00", length)


def protected_bye(key: SrtpKey, ssrc: int, index: int) -> bytes:
    """An RTCP BYE from ``ssrc`` protected as SRTCP packet ``index`` under ``key``.

    The BYE carries a short reason so that it is as long as an RTP header: libavformat
    drops anything shorter before it looks at the type.
    """
    reason = bytes([len(_BYE_REASON)]) + _BYE_REASON
    reason += bytes(-len(reason) % 4)
    words = 1 + len(reason) // 4
    header = struct.pack("!BBHI", _RTCP_VERSION_ONE_SOURCE, _RTCP_BYE, words, ssrc)
    session_key = _derive(key, _LABEL_RTCP_ENCRYPTION, _KEY_BYTES)
    session_salt = _derive(key, _LABEL_RTCP_SALT, _SALT_BYTES)
    auth_key = _derive(key, _LABEL_RTCP_AUTH, _AUTH_KEY_BYTES)
    iv = bytearray(session_salt + b"\x00\x00")
    for at, byte in enumerate(struct.pack("!I", ssrc)):
        iv[4 + at] ^= byte
    for at, byte in enumerate(struct.pack("!I", index)):
        iv[10 + at] ^= byte
    keystream = _aes_cm(session_key, bytes(iv), len(reason))
    encrypted = bytes(a ^ b for a, b in zip(reason, keystream, strict=True))
    packet = header + encrypted + struct.pack("!I", _SRTCP_ENCRYPTED | index)
    tag = hmac.new(auth_key, packet, hashlib.sha1).digest()[:_TAG_BYTES]
    return packet + tag
