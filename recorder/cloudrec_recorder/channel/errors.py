"""Errors of the channel client, typed so the recorder can map them to protocol codes.

::

    ChannelError
    ├── JanusApiError            Janus (core or VideoRoom) answered with an error code
    │   ├── RoomNotFoundError    VideoRoom 426: the room (channel) does not exist
    │   ├── UidConflictError     VideoRoom 436: another participant already has this uid
    │   └── TokenRejectedError   core 403/405/470 or VideoRoom 433: token, API secret or pin refused
    ├── JanusUnreachableError    no HTTP answer from Janus (connection refused, timeout, bad JSON)
    ├── SessionLostError         the Janus session is gone (timeout, server restart, unreachable)
    └── MediaConnectError        the WebRTC connection to Janus failed or did not come up in time

Messages never contain the token or the API secret.
"""

from __future__ import annotations

__all__ = [
    "ADMIN_KEY_SETTING",
    "ChannelError",
    "ForwardRefusedError",
    "JanusApiError",
    "JanusUnreachableError",
    "MediaConnectError",
    "RoomNotFoundError",
    "SessionLostError",
    "TokenRejectedError",
    "UidConflictError",
    "error_for",
    "forward_refusal",
]

# Janus core API error codes (src/apierror.h)
CORE_UNAUTHORIZED = 403
CORE_UNAUTHORIZED_PLUGIN = 405
CORE_SESSION_NOT_FOUND = 458
CORE_TOKEN_NOT_FOUND = 470
# VideoRoom plugin error codes (janus_videoroom.c)
VIDEOROOM_MISSING_ELEMENT = 429
VIDEOROOM_NO_SUCH_ROOM = 426
VIDEOROOM_NO_SUCH_FEED = 428
VIDEOROOM_UNAUTHORIZED = 433
VIDEOROOM_ID_EXISTS = 436


class ChannelError(Exception):
    """Anything that went wrong talking to the channel server."""


class JanusApiError(ChannelError):
    """Janus refused a request; ``code`` is Janus' (core or plugin) error code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class RoomNotFoundError(JanusApiError):
    """The room (the protocol's channel) does not exist on the Janus server."""


class UidConflictError(JanusApiError):
    """Another participant in the room already uses this uid."""


class TokenRejectedError(JanusApiError):
    """Janus refused the token (or the API secret, or the room's pin/ACL)."""


ADMIN_KEY_SETTING = "apps.<appId>.janus.adminKey"
"""The recorder setting that holds VideoRoom's ``admin_key`` (named in errors)."""


class ForwardRefusedError(TokenRejectedError):
    """Janus refused to create an RTP forwarder: its VideoRoom sets ``lock_rtp_forward`` and
    the recorder's admin key (:data:`ADMIN_KEY_SETTING`) is missing or wrong."""

    def __init__(self, code: int, reason: str, *, key_given: bool) -> None:
        super().__init__(code, reason)
        if key_given:
            hint = f"the setting {ADMIN_KEY_SETTING} is not the VideoRoom's admin_key"
        else:
            hint = f"the VideoRoom sets lock_rtp_forward: set {ADMIN_KEY_SETTING} to its admin_key"
        self.args = (f"Janus refused rtp_forward (error {code}: {reason}): {hint}",)
        self.key_given = key_given


class JanusUnreachableError(ChannelError):
    """Janus did not answer an HTTP request (refused, timed out, or not Janus' JSON)."""


class SessionLostError(ChannelError):
    """The Janus session ended: session timeout, server restart, or unreachable server."""


class MediaConnectError(ChannelError):
    """ICE/DTLS with Janus failed or did not complete in time."""


_BY_CODE: dict[int, type[JanusApiError]] = {
    VIDEOROOM_NO_SUCH_ROOM: RoomNotFoundError,
    VIDEOROOM_ID_EXISTS: UidConflictError,
    VIDEOROOM_UNAUTHORIZED: TokenRejectedError,
    CORE_UNAUTHORIZED: TokenRejectedError,
    CORE_UNAUTHORIZED_PLUGIN: TokenRejectedError,
    CORE_TOKEN_NOT_FOUND: TokenRejectedError,
}


def forward_refusal(error: JanusApiError, *, key_given: bool) -> ForwardRefusedError | None:
    """The :class:`ForwardRefusedError` an ``rtp_forward`` error means, if it is about the
    admin key: unauthorized (a wrong key), or the key missing where ``lock_rtp_forward``
    wants one (429 naming ``admin_key``)."""
    missing = error.code == VIDEOROOM_MISSING_ELEMENT and "admin_key" in error.reason
    if isinstance(error, TokenRejectedError) or missing:
        return ForwardRefusedError(error.code, error.reason, key_given=key_given)
    return None


def error_for(code: int, reason: str) -> JanusApiError:
    """The typed exception for a Janus error code (a plain :class:`JanusApiError` otherwise)."""
    return _BY_CODE.get(code, JanusApiError)(code, reason)
