"""Who a recording subscribes to (pure): streamTypes plus the allow/block lists (§3.2.1, §3.4).

Rules: with no list at all, every publisher's audio and video (as streamTypes allow); an
allow-list (``subscribe…Uids``, ``#allstream#`` = everyone) or a block-list
(``unSubscribe…Uids``) for one media type; and if lists are given for only one media type,
the other media type is not subscribed at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cloudrec_protocol.enums import StreamTypes
from cloudrec_protocol.models import ALL_STREAMS, RecordingConfig, StreamSubscribe


@dataclass(frozen=True)
class MediaRule:
    """One media type's rule: off, everyone, an allow-list or a block-list."""

    enabled: bool = True
    allow: frozenset[str] | None = None
    block: frozenset[str] = frozenset()

    def admits(self, uid: str) -> bool:
        if not self.enabled or uid in self.block:
            return False
        return self.allow is None or ALL_STREAMS in self.allow or uid in self.allow


@dataclass(frozen=True)
class Subscription:
    """The audio and video rules of one recording."""

    audio: MediaRule
    video: MediaRule

    def wants(self, uid: str) -> tuple[bool, bool]:
        return self.audio.admits(uid), self.video.admits(uid)


def _rule(
    enabled: bool, allow: Sequence[str] | None, block: Sequence[str] | None, any_list: bool
) -> MediaRule:
    if not enabled:
        return MediaRule(enabled=False)
    if allow is None and block is None:
        # Lists given only for the other media type: this one is not subscribed.
        return MediaRule(enabled=not any_list)
    return MediaRule(
        allow=frozenset(allow) if allow is not None else None, block=frozenset(block or ())
    )


def subscription(
    stream_types: StreamTypes,
    audio_allow: Sequence[str] | None = None,
    audio_block: Sequence[str] | None = None,
    video_allow: Sequence[str] | None = None,
    video_block: Sequence[str] | None = None,
) -> Subscription:
    any_list = any(x is not None for x in (audio_allow, audio_block, video_allow, video_block))
    return Subscription(
        audio=_rule(stream_types != StreamTypes.VIDEO_ONLY, audio_allow, audio_block, any_list),
        video=_rule(stream_types != StreamTypes.AUDIO_ONLY, video_allow, video_block, any_list),
    )


def from_config(config: RecordingConfig) -> Subscription:
    return subscription(
        config.stream_types,
        config.subscribe_audio_uids,
        config.un_subscribe_audio_uids,
        config.subscribe_video_uids,
        config.un_subscribe_video_uids,
    )


def from_update(stream_types: StreamTypes, update: StreamSubscribe) -> Subscription:
    """The subscription an ``update`` asks for (its lists replace the old ones)."""
    audio = update.audio_uid_list
    video = update.video_uid_list
    return subscription(
        stream_types,
        audio.subscribe_audio_uids if audio else None,
        audio.un_subscribe_audio_uids if audio else None,
        video.subscribe_video_uids if video else None,
        video.un_subscribe_video_uids if video else None,
    )
