"""Joining channels: the Janus VideoRoom client.

:class:`~cloudrec_recorder.channel.janus.JanusChannel` joins a room as the
recorder's uid, reports who publishes (:mod:`~cloudrec_recorder.channel.room`
events) and subscribes to publishers' tracks; typed errors are in
:mod:`~cloudrec_recorder.channel.errors`.
"""

from cloudrec_recorder.channel.errors import (
    ChannelError,
    JanusApiError,
    JanusUnreachableError,
    MediaConnectError,
    RoomNotFoundError,
    SessionLostError,
    TokenRejectedError,
    UidConflictError,
)
from cloudrec_recorder.channel.feed import SubscribedFeed
from cloudrec_recorder.channel.janus import JanusChannel
from cloudrec_recorder.channel.room import (
    SUBSTREAM_HIGH,
    SUBSTREAM_LOW,
    ChannelClosed,
    ChannelEvent,
    ParticipantsChanged,
    PublisherInfo,
    PublisherJoined,
    PublisherLeft,
    PublisherUpdated,
)

__all__ = [
    "SUBSTREAM_HIGH",
    "SUBSTREAM_LOW",
    "ChannelClosed",
    "ChannelError",
    "ChannelEvent",
    "JanusApiError",
    "JanusChannel",
    "JanusUnreachableError",
    "MediaConnectError",
    "ParticipantsChanged",
    "PublisherInfo",
    "PublisherJoined",
    "PublisherLeft",
    "PublisherUpdated",
    "RoomNotFoundError",
    "SessionLostError",
    "SubscribedFeed",
    "TokenRejectedError",
    "UidConflictError",
]
