"""The merged audio+video playlist of one uid (individual mode, ``streamMode`` standard).

The service's standard mode writes, besides each uid's audio and video playlists, one index
that plays both together, over the same slices (no extra encoding). Here that index is an HLS
master playlist: the video playlist as the variant stream, the audio playlist as its audio
rendition, which every HLS player (and FFmpeg) plays as one audio+video stream.
"""

from __future__ import annotations

__all__ = ["merged_playlist"]


def merged_playlist(*, audio: str, video: str, width: int, height: int, bandwidth_bps: int) -> str:
    """The master playlist text joining playlists ``audio`` and ``video`` (same directory)."""
    return (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,'
        f'URI="{audio}"\n'
        f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth_bps},RESOLUTION={width}x{height},AUDIO="audio"\n'
        f"{video}\n"
    )
